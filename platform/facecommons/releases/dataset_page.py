"""Reads for the dataset page of a version: composition, changelog, evaluation headline, preview,
snippets, citation, licence. Counts below ``STATS_MIN_COUNT`` were suppressed at build time."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from facecommons.common.tunables import tunables
from facecommons.contributions.models import Category, CategoryValue
from facecommons.evaluation.labels import CategoryLabels, metric_label
from facecommons.evaluation.selectors import public_metric, run_latest_done, run_metrics
from facecommons.releases import contents, signing
from facecommons.releases.archive.store import BlobStore
from facecommons.releases.models import Snapshot, SnapshotEntry

PREVIEW_ROWS = 8


def _site() -> str:
    return tunables.SITE_URL.rstrip("/")


def _cell(n: int | None, k: int, biggest: int) -> dict[str, Any]:
    suppressed = n is None
    return {"count": n, "suppressed": suppressed, "meter": 0 if suppressed else n, "max": max(biggest, 1),
            "display": _("fewer than %(k)s") % {"k": k} if suppressed else str(n)}


def composition(snap: Snapshot) -> dict[str, Any]:
    """Per category and main intersection, from the counts frozen at build time."""
    counts = snap.counts or {}
    k = int(counts.get("min_count", tunables.STATS_MIN_COUNT))
    labels = {(v.category.key, v.key): v.label for v in CategoryValue.objects.select_related("category")}
    cat_labels = dict(Category.objects.filter(taxonomy__is_current=True).values_list("key", "label"))
    categories = []
    for key, values in (counts.get("categories") or {}).items():
        biggest = max([n for n in values.values() if n] or [1])
        categories.append({"key": key, "label": cat_labels.get(key, key),
                           "values": [{"value": v, "label": labels.get((key, v), v), **_cell(n, k, biggest)}
                                      for v, n in values.items()]})
    intersections = []
    for name, cells in (counts.get("intersections") or {}).items():
        a_key, b_key = name.split("×")
        a_values = sorted({c.split("|")[0] for c in cells})
        b_values = sorted({c.split("|")[1] for c in cells})
        rows = [{"a": labels.get((a_key, a), a),
                 "cells": [_cell(cells[f"{a}|{b}"], k, 1)["display"] if f"{a}|{b}" in cells else "0" for b in b_values]}
                for a in a_values]
        intersections.append({"name": f"{cat_labels.get(a_key, a_key)} × {cat_labels.get(b_key, b_key)}",
                              "b_values": [labels.get((b_key, b), b) for b in b_values], "rows": rows})
    return {"k": k, "categories": categories, "intersections": intersections,
            "splits": counts.get("splits", {}), "photos": counts.get("photos", 0), "subjects": counts.get("subjects", 0)}


def evaluation_headline(snap: Snapshot) -> list[dict[str, Any]]:
    """The latest finished evaluation of this version: each model's summary metrics."""
    run = run_latest_done(f"snapshot:{snap.version}")
    if run is None:
        return []
    out: dict[str, dict[str, Any]] = {}
    names = CategoryLabels()
    for m in run_metrics(run):
        if m.value not in ("*", "all") and m.category != "all":
            continue
        shown = public_metric(m)
        row = out.setdefault(m.model_id, {"model": m.model_id, "metrics": []})
        if len(row["metrics"]) < 6 and shown["estimate"] is not None:
            row["metrics"].append({"metric": m.metric, "category": m.category, "estimate": shown["estimate"],
                                   "metric_label": metric_label(m.metric), "category_label": names.category(m.category)})
    return list(out.values())


def preview_rows(snap: Snapshot) -> list[dict[str, Any]]:
    gone = contents.withdrawn_paths(snap)
    rows = []
    for e in SnapshotEntry.objects.filter(snapshot=snap).order_by("seq")[:PREVIEW_ROWS * 2]:
        if e.file_name in gone:
            continue
        rows.append({"file_name": e.file_name, "split": e.split, "subject_id": e.subject_id, "sha256": e.sha256,
                     "attributes": [(k, ", ".join(v) if isinstance(v, list) else str(v))
                                    for k, v in e.attributes.items()]})
        if len(rows) == PREVIEW_ROWS:
            break
    return rows


def citation(snap: Snapshot) -> dict[str, str]:
    name, version, url = settings.SITE_NAME, snap.version, f"{_site()}/datasets/{snap.version}/"
    year = f"{(snap.published_at or snap.cutoff_at):%Y}"
    date = f"{(snap.published_at or snap.cutoff_at):%Y-%m-%d}"
    key = f"facecommons_{version.replace('.', '_')}"
    bibtex = (f"@misc{{{key},\n  title = {{{{{name}}} dataset, snapshot {version}}},\n"
              f"  author = {{{{{name} contributors}}}},\n  year = {{{year}}},\n  version = {{{version}}},\n"
              f"  url = {{{url}}},\n  note = {{Manifest SHA-256 {snap.manifest_sha256}}}\n}}\n")
    cff = (f"cff-version: 1.2.0\nmessage: \"If you use this dataset, please cite it as below.\"\ntype: dataset\n"
           f"title: \"{name} dataset\"\nversion: \"{version}\"\ndate-released: {date}\nurl: \"{url}\"\n"
           f"authors:\n  - name: \"{name} contributors\"\nidentifiers:\n  - type: other\n"
           f"    value: \"sha256:{snap.manifest_sha256}\"\n    description: \"SHA-256 of the version's manifest\"\n")
    return {"bibtex": bibtex, "cff": cff}


def snippets(snap: Snapshot) -> dict[str, str]:
    v, site = snap.version, _site()
    return {
        "client": (f"pip install ./facecommons_client   # from the {settings.SITE_NAME} repository\n"
                   f"export FACECOMMONS_URL={site} FACECOMMONS_TOKEN=fcr_...\n"
                   f"python -m facecommons_client sync --version {v} facecommons-{v}"),
        "datasets": ("import datasets\n\n"
                     f"ds = datasets.load_dataset(\"imagefolder\", data_dir=\"facecommons-{v}/facecommons\")\n"
                     "print(ds)  # train, validation, test"),
        "curl": (f"curl -fL -C - -H \"Authorization: Bearer $FACECOMMONS_TOKEN\" -o facecommons-{v}.tar \\\n"
                 f"     {site}/api/v1/snapshots/{v}/download/"),
    }


def document_text(snap: Snapshot, path: str, limit: int = 200_000) -> str:
    doc = (snap.documents or {}).get(path)
    if not doc:
        return ""
    with BlobStore().open(doc[0]) as fh:
        return fh.read(limit).decode("utf-8", errors="replace")  # type: ignore[no-any-return]


def datasheet_blocks(text: str) -> list[dict[str, Any]]:
    """DATASHEET.md as blocks the template renders (escaped): headings, lists, tables, paragraphs."""
    blocks: list[dict[str, Any]] = []
    for line in text.splitlines():
        if not line.strip():
            continue
        if line.startswith("#"):
            level = min(len(line) - len(line.lstrip("#")) + 1, 5)
            blocks.append({"kind": "heading", "level": level, "text": line.lstrip("#").strip()})
        elif line.startswith("|"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if all(set(c) <= set("-:") for c in cells):
                continue
            if not blocks or blocks[-1]["kind"] != "table":
                blocks.append({"kind": "table", "head": cells, "rows": []})
            else:
                blocks[-1]["rows"].append(cells)
        elif line.lstrip().startswith("- "):
            if not blocks or blocks[-1]["kind"] != "list":
                blocks.append({"kind": "list", "items": []})
            blocks[-1]["items"].append(line.lstrip()[2:].replace("`", ""))
        else:
            blocks.append({"kind": "paragraph", "text": line.replace("`", "")})
    return blocks


def page_context(snap: Snapshot, *, may_download: bool) -> dict[str, Any]:
    public = signing.public_key_b64()
    previous = snap.previous
    return {
        "snap": snap, "composition": composition(snap), "evaluation": evaluation_headline(snap),
        "preview": preview_rows(snap) if may_download else [], "may_download": may_download,
        "citation": citation(snap), "snippets": snippets(snap),
        "datasheet": datasheet_blocks(document_text(snap, "DATASHEET.md")),
        "license": document_text(snap, "LICENSE"), "public_key": public, "key_id": signing.key_id(public),
        "changes": {k: (snap.counts or {}).get(k, 0) for k in ("added_photos", "removed_photos", "added_subjects",
                                                              "removed_subjects")},
        "previous": previous, "versions": list(Snapshot.objects.filter(status="published")
                                               .order_by("-published_at").values_list("version", flat=True)[:20]),
    }
