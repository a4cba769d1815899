"""The immutable manifest of a version and the delta between two.

A manifest is text, one line per file, ``<sha256> <size> <path>``, sorted by path (bytewise),
UTF-8, ending in a newline. Its own SHA-256 names the version's content (equal manifests, equal
content) and is the key it is stored under in the blob store, like any other file. Because both
sides are sorted, a delta is one merge pass over two streams: memory stays flat in N.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO


@dataclass(frozen=True, order=True)
class Entry:
    path: str
    sha256: str
    size: int

    def line(self) -> str:
        return f"{self.sha256} {self.size} {self.path}\n"


def parse(line: str) -> Entry:
    sha, size, path = line.rstrip("\n").split(" ", 2)
    return Entry(path=path, sha256=sha, size=int(size))


def read(fh: IO[bytes]) -> Iterator[Entry]:
    for raw in fh:
        if raw.strip():
            yield parse(raw.decode("utf-8"))


@dataclass(frozen=True)
class Change:
    op: str  # "add" or "remove"
    entry: Entry


def diff(old: Iterable[Entry], new: Iterable[Entry]) -> Iterator[Change]:
    """What turns manifest ``old`` into ``new``: files to add (new or changed) and to remove.

    Both must be sorted by path. A path whose content changed is one "add" (the new bytes
    replace the old file); a path only in ``old`` is a "remove".
    """
    old_it, new_it = iter(old), iter(new)
    a, b = next(old_it, None), next(new_it, None)
    while a is not None or b is not None:
        if b is None or (a is not None and a.path < b.path):
            assert a is not None
            yield Change("remove", a)
            a = next(old_it, None)
        elif a is None or b.path < a.path:
            yield Change("add", b)
            b = next(new_it, None)
        else:
            if a.sha256 != b.sha256 or a.size != b.size:
                yield Change("add", b)
            a, b = next(old_it, None), next(new_it, None)


def apply(base: Iterable[Entry], changes: Iterable[Change]) -> list[Entry]:
    """``base`` with ``changes`` applied, sorted (for tests and clients; holds the result in memory)."""
    files = {e.path: e for e in base}
    for c in changes:
        if c.op == "remove":
            files.pop(c.entry.path, None)
        else:
            files[c.entry.path] = c.entry
    return [files[p] for p in sorted(files)]
