"""Import layers: no import cycle in facecommons, and ml/ and enhancement/ free of Django.

The graph is read with ``ast`` from the source, not by importing it: an edge is an import
that runs when the module is imported (module level, class bodies, ``try``/``if`` blocks;
not function bodies, not ``if TYPE_CHECKING``). A function-level import is allowed only with a
``# lazy: <why>`` comment (see test_function_level_imports_say_why).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = {"facecommons": ROOT / "platform" / "facecommons", "ml": ROOT / "ml", "enhancement": ROOT / "enhancement"}


def module_files() -> dict[str, Path]:
    out = {}
    for top, folder in SOURCES.items():
        for path in folder.rglob("*.py"):
            rel = path.relative_to(folder.parent).with_suffix("")
            parts = list(rel.parts)
            if "migrations" in parts:
                continue
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join(parts)] = path
    return out


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _import_nodes(body: list[ast.stmt], *, functions: bool) -> Iterator[ast.Import | ast.ImportFrom]:
    for node in body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            if functions:
                yield from _import_nodes(node.body, functions=functions)
        elif isinstance(node, ast.If) and _is_type_checking(node):
            continue
        else:
            for field in ("body", "orelse", "finalbody", "handlers"):
                children = getattr(node, field, None)
                if isinstance(children, list):
                    yield from _import_nodes([c for c in children if isinstance(c, ast.AST)],  # type: ignore[misc]
                                             functions=functions)


def imported_names(module: str, path: Path, *, functions: bool = False) -> set[str]:
    """Every dotted name an import in ``module`` refers to (``from a import b`` gives a.b and a)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names = set()
    for node in _import_nodes(tree.body, functions=functions):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
            continue
        base = node.module or ""
        if node.level:
            anchor = package.split(".")
            anchor = anchor[: len(anchor) - (node.level - 1)]
            base = ".".join([*anchor, *([base] if base else [])])
        names.add(base)
        names |= {f"{base}.{alias.name}" for alias in node.names}
    return names


def import_graph() -> dict[str, set[str]]:
    files = module_files()
    graph: dict[str, set[str]] = {}
    for module, path in files.items():
        if not module.startswith("facecommons."):
            continue
        graph[module] = {name for name in imported_names(module, path) if name in files and name != module
                         and name.startswith("facecommons.")}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


def test_the_graph_is_read():
    graph = import_graph()
    assert "facecommons.contributions.services" in graph["facecommons.pipeline.services"]
    assert "facecommons.common.events" in graph["facecommons.contributions.events"]


def test_cycle_detection_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_in_facecommons():
    """No cycle between apps nor within one: a module never imports, at load time and through
    any chain, a module that imports it."""
    found = cycles(import_graph())
    assert not found, "import cycles:\n" + "\n".join(" <-> ".join(c) for c in found)


# The apps from the bottom up: an app imports only apps below it (and reacts to those above
# through events, facecommons.common.events).
LAYERS = ["common", "accounts", "contributions", "pipeline", "moderation", "rewards", "releases", "evaluation",
          "workbench"]
# Imports that still go up a layer (module cycles they are not: test_no_import_cycle_in_facecommons),
# each to be turned into an event or moved. The list may only shrink: a new upward import fails,
# and so does an entry that no longer exists.
UPWARD_IMPORTS = {
    # the withdrawal counts the photos; the data export gathers them with their files
    ("facecommons.accounts.services", "facecommons.contributions.models"),
    # a password change revokes researchers' personal tokens; fcr_ keys are refused as API tokens
    ("facecommons.accounts.tokens", "facecommons.releases.models"),
    # the sentences a contributor reads about the pipeline's findings
    ("facecommons.contributions.serializers", "facecommons.pipeline.findings"),
    ("facecommons.contributions.views", "facecommons.pipeline.findings"),
    # the dataset page and the Croissant metadata show the latest public evaluation
    ("facecommons.releases.selectors", "facecommons.evaluation.selectors"),
    ("facecommons.releases.dataset_page", "facecommons.evaluation.labels"),
    ("facecommons.releases.dataset_page", "facecommons.evaluation.selectors"),
    ("facecommons.releases.views", "facecommons.evaluation.views"),
}


def test_apps_import_only_the_layers_below():
    graph = import_graph()
    assert {m.split(".")[1] for m in graph} <= set(LAYERS), "a new app: place it in LAYERS"
    upward = {(m, n) for m, names in graph.items() for n in names
              if LAYERS.index(n.split(".")[1]) > LAYERS.index(m.split(".")[1])}
    assert not upward - UPWARD_IMPORTS, f"imports up a layer: {sorted(upward - UPWARD_IMPORTS)}"
    assert not UPWARD_IMPORTS - upward, f"gone, remove from UPWARD_IMPORTS: {sorted(UPWARD_IMPORTS - upward)}"


def test_ml_and_enhancement_never_import_django():
    files = module_files()
    bad = []
    for module, path in files.items():
        if module.split(".")[0] not in ("ml", "enhancement"):
            continue
        for name in imported_names(module, path, functions=True):
            if name.split(".")[0] in ("django", "rest_framework", "celery", "facecommons", "config"):
                bad.append(f"{module}: {name}")
    assert not bad, bad


def test_function_level_imports_say_why():
    """An import inside a function is hoisted unless a `# lazy: <why>` comment says why not
    (a heavy library kept off the web process's start-up, a model not loaded before ready())."""
    bad = []
    for module, path in module_files().items():
        if not module.startswith("facecommons."):
            continue
        lines = path.read_text().splitlines()
        tree = ast.parse("\n".join(lines))
        for func in ast.walk(tree):
            if not isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            imports = [n for n in ast.walk(func) if isinstance(n, ast.Import | ast.ImportFrom)]
            for node in imports:
                # The reason sits on the import's line or on a comment line just above it (a
                # block of imports shares one comment).
                above = node.lineno - 2
                while above >= 0 and (lines[above].strip().startswith(("from ", "import ", ")"))
                                      or lines[above].strip().endswith(",")):
                    above -= 1
                said = "# lazy:" in lines[node.lineno - 1] or (above >= 0 and "# lazy:" in lines[above])
                if not said:
                    bad.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not bad, "function-level imports without a `# lazy: <why>` comment:\n" + "\n".join(sorted(set(bad)))
