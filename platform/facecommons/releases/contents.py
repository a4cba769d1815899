"""Reads of a version's contents: its manifest, deltas, single files, metadata and subsets.

Withdrawals do not change a manifest (it is immutable, and says what the version held); they
remove files from what is *served*: the archive and the file endpoint skip withdrawn files,
whose bytes are gone from the store.
"""

from __future__ import annotations

import hashlib
import json
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from facecommons.common.errors import ServiceError
from facecommons.releases.archive import manifest as mf
from facecommons.releases.archive.rows import FLAGS
from facecommons.releases.archive.selection import category_schema
from facecommons.releases.archive.splits import SPLITS
from facecommons.releases.archive.store import BlobStore
from facecommons.releases.models import Blob, Snapshot, SnapshotEntry, Withdrawal

_PHOTO_PATH = re.compile(r"^(?:train|validation|test|crops/112|crops/224)/([0-9a-f]{64})\.jpg$")
SUBSET_FLAGS = (*FLAGS, "detector_missed")


class ContentsError(ServiceError):
    """A request for a snapshot's contents that cannot be answered."""


def manifest_entries(snap: Snapshot) -> Iterator[mf.Entry]:
    """The version's immutable manifest, sorted by path."""
    if not snap.manifest_sha256:
        raise ContentsError("no_manifest", "This snapshot predates manifests: download its archive.", status=404)
    with BlobStore().open(snap.manifest_sha256) as fh:
        yield from mf.read(fh)


def withdrawn_paths(snap: Snapshot) -> set[str]:
    return {p for names in Withdrawal.objects.filter(snapshot=snap).values_list("file_names", flat=True) for p in names}


def served_entries(snap: Snapshot) -> Iterator[mf.Entry]:
    """The manifest less the files withdrawn since publication."""
    gone = withdrawn_paths(snap)
    return (e for e in manifest_entries(snap) if e.path not in gone)


def delta(snap: Snapshot, base: Snapshot) -> Iterator[mf.Change]:
    return mf.diff(manifest_entries(base), manifest_entries(snap))


def snapshot_file(snap: Snapshot, path: str) -> mf.Entry:
    """The manifest entry of ``path``; ContentsError 404 if the version has no such file, 410 if
    it was withdrawn. Found through indexed rows, not by reading the manifest."""
    if path in snap.documents:
        sha, size = snap.documents[path]
        return mf.Entry(path=path, sha256=sha, size=int(size))
    m = _PHOTO_PATH.match(path)
    blob = Blob.objects.filter(sha256=m.group(1)).first() if m else None
    entry = (SnapshotEntry.objects.filter(snapshot=snap, contribution_id=blob.contribution_id).first()
             if blob is not None and blob.contribution_id else None)
    if entry is None or blob is None or (path != entry.file_name and path not in entry.extra_files):
        raise ContentsError("not_found", f"Snapshot {snap.version} has no file {path}.", status=404)
    if blob.withdrawn_at is not None or path in withdrawn_paths(snap):
        raise ContentsError("withdrawn", f"{path} was withdrawn: delete it wherever you hold it.", status=410)
    return mf.Entry(path=path, sha256=blob.sha256, size=blob.size)


def metadata_entries(snap: Snapshot) -> list[mf.Entry]:
    """The documents only: metadata.parquet, the per-split metadata.jsonl, croissant.json, ..."""
    return sorted(mf.Entry(path=p, sha256=v[0], size=int(v[1])) for p, v in snap.documents.items())


# --- filtered subsets ------------------------------------------------------------------------------

@dataclass
class Subset:
    """A filtered part of a version: its files (sorted), and its per-split metadata.jsonl spooled
    to temporary files (they are not blobs: ``extra`` opens them)."""

    entries: list[mf.Entry]
    extra: dict[str, Any] = field(default_factory=dict)
    spools: list[IO[bytes]] = field(default_factory=list)
    photos: int = 0

    def close(self) -> None:
        for f in self.spools:
            f.close()


def subset_filters(params: dict[str, str]) -> dict[str, set[str]]:
    """Validated filters from query parameters: ``split``, any category key, or a flag, each a
    comma-separated list of accepted values (values of one key: any; several keys: all)."""
    categories = {key for key, _ in category_schema()}
    out: dict[str, set[str]] = {}
    for key, raw in params.items():
        if key in ("format", "as"):
            continue
        values = {v.strip() for v in str(raw).split(",") if v.strip()}
        if key not in categories and key not in SUBSET_FLAGS and key != "split":
            allowed = ", ".join(["split", *sorted(categories), *SUBSET_FLAGS])
            raise ContentsError("invalid_filter", f"Unknown filter {key!r}; filter on one of: {allowed}.")
        if key == "split" and not values <= set(SPLITS):
            raise ContentsError("invalid_filter", f"split must be one of {', '.join(SPLITS)}.")
        if key in SUBSET_FLAGS and not values <= {"true", "false"}:
            raise ContentsError("invalid_filter", f"{key} is true or false.")
        if values:
            out[key] = values
    return out


def _matches(attributes: dict[str, Any], filters: dict[str, set[str]]) -> bool:
    for key, accepted in filters.items():
        if key == "split":
            continue
        if key in SUBSET_FLAGS:
            if ("true" if attributes.get(key) else "false") not in accepted:
                return False
        elif not accepted & set(attributes.get(key) or []):
            return False
    return True


def subset_etag(snap: Snapshot, filters: dict[str, set[str]]) -> str:
    spec = json.dumps({k: sorted(v) for k, v in sorted(filters.items())})
    return hashlib.sha256(f"{snap.manifest_sha256}|{snap.withdrawals_count}|{spec}".encode()).hexdigest()


def subset(snap: Snapshot, filters: dict[str, set[str]]) -> Subset:
    """The photos (and their crops) matching ``filters``, withdrawn ones left out, with their rows
    of each split's metadata.jsonl. Caller closes it."""
    gone = withdrawn_paths(snap)
    qs = SnapshotEntry.objects.filter(snapshot=snap)
    if "split" in filters:
        qs = qs.filter(split__in=filters["split"])
    chosen: dict[str, str] = {}  # file name (sha.jpg) -> split
    entries: list[mf.Entry] = []
    shas: list[str] = []
    for file_name, split, sha, extra, attributes in qs.values_list(
            "file_name", "split", "sha256", "extra_files", "attributes").iterator(chunk_size=2000):
        if file_name in gone or not _matches(attributes, filters):
            continue
        chosen[f"{sha}.jpg"] = split
        shas.append(sha)
        entries.append(mf.Entry(path=file_name, sha256=sha, size=0))
        for crop in extra:
            shas.append(crop.rsplit("/", 1)[1][:-4])
            entries.append(mf.Entry(path=crop, sha256=shas[-1], size=0))
    sizes: dict[str, int] = {}
    for i in range(0, len(shas), 900):
        sizes.update(Blob.objects.filter(sha256__in=shas[i:i + 900]).values_list("sha256", "size"))
    out = Subset(entries=[], photos=len(chosen))
    out.entries = [mf.Entry(path=e.path, sha256=e.sha256, size=sizes[e.sha256]) for e in entries if e.sha256 in sizes]
    store = BlobStore()
    for split in SPLITS:
        doc = snap.documents.get(f"{split}/metadata.jsonl")
        if not doc or split not in chosen.values():
            continue
        spool = tempfile.TemporaryFile("w+b")  # noqa: SIM115 - closed by Subset.close
        out.spools.append(spool)
        with store.open(doc[0]) as fh:
            for line in fh:
                if chosen.get(json.loads(line)["file_name"]) == split:
                    spool.write(line)
        size = spool.tell()
        path = f"{split}/metadata.jsonl"
        out.entries.append(mf.Entry(path=path, sha256="", size=size))
        out.extra[path] = _reopen(spool)
    out.entries.sort()
    return out


def _reopen(spool: IO[bytes]) -> Any:
    class _View:
        def __enter__(self) -> IO[bytes]:
            spool.seek(0)
            return spool

        def __exit__(self, *exc: object) -> None:
            return None

    return _View
