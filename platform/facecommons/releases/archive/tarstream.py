"""A tar archive streamed from stored files, with byte ranges, and never written to disk.

The layout is a pure function of the listed files (sorted by path) and one mtime: each member
is a 512-byte POSIX ustar header, the bytes, and zero padding to 512; two zero blocks end it.
So the size and every member's offset are known from the sizes alone, and a ``Range`` request
seeks straight to the member it starts in. Members are named ``facecommons/<path>``.
"""

from __future__ import annotations

import tarfile
from collections.abc import Callable, Iterable, Iterator
from typing import IO

from facecommons.releases.archive.manifest import Entry

ROOT = "facecommons"
BLOCK = 512
END = b"\0" * (2 * BLOCK)
READ = 1 << 20


def _padded(size: int) -> int:
    return (size + BLOCK - 1) // BLOCK * BLOCK


def header(entry: Entry, mtime: int) -> bytes:
    ti = tarfile.TarInfo(f"{ROOT}/{entry.path}")
    ti.size, ti.mode, ti.mtime, ti.uid, ti.gid = entry.size, 0o644, mtime, 0, 0
    return ti.tobuf(format=tarfile.USTAR_FORMAT, encoding="utf-8", errors="strict")


def archive_size(entries: Iterable[Entry]) -> int:
    return sum(BLOCK + _padded(e.size) for e in entries) + len(END)


def stream(entries: Iterable[Entry], open_file: Callable[[Entry], IO[bytes]], *, mtime: int,
           first: int = 0, last: int | None = None) -> Iterator[bytes]:
    """The bytes ``first``..``last`` (inclusive; ``last`` None: to the end) of the archive."""
    pos = 0
    stop = None if last is None else last + 1

    def clip(start: int, data: bytes) -> bytes:
        a = max(first - start, 0)
        b = len(data) if stop is None else min(len(data), stop - start)
        return data[a:b] if b > a else b""

    for e in entries:
        member = BLOCK + _padded(e.size)
        if pos + member <= first:
            pos += member
            continue
        if stop is not None and pos >= stop:
            return
        head = clip(pos, header(e, mtime))
        if head:
            yield head
        data_start = pos + BLOCK
        skip = max(first - data_start, 0)
        want_end = e.size if stop is None else min(e.size, stop - data_start)
        if want_end > skip:
            with open_file(e) as fh:
                if skip:
                    fh.seek(skip)
                left, got = want_end - skip, 0
                while left > 0:
                    block = fh.read(min(READ, left))
                    if not block:
                        raise OSError(f"{e.path}: stored file is shorter than its manifest size")
                    got += len(block)
                    left -= len(block)
                    yield block
        pad = _padded(e.size) - e.size
        if pad:
            tail = clip(data_start + e.size, b"\0" * pad)
            if tail:
                yield tail
        pos += member
    end = clip(pos, END)
    if end:
        yield end
