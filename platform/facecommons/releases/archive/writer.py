"""Writing one version's files into the content-addressed store: the photos and their crops as
they come, metadata.jsonl per split and metadata.parquet, the documents, then SHA256SUMS and
the manifest.

Bytes: a file already stored by an earlier version costs one row lookup (``BlobStore.known``),
so a version stores only what is new. Nothing here writes an archive: the tar is streamed from
the blobs when someone downloads it.

Memory: the manifest's lines and the metadata files are spooled to temporary files (the
manifest sorted in bounded runs); what stays in memory is the category counters.

Nothing here reads or changes a snapshot: the caller passes plain rows in and gets plain data
back (the entries to record, the fields to publish).
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

import pyarrow as pa
import pyarrow.parquet as pq

from facecommons.releases.archive import documents, rows, splits, tarstream
from facecommons.releases.archive import manifest as mf
from facecommons.releases.archive.croissant import croissant
from facecommons.releases.archive.selection import CROPS, crop_paths
from facecommons.releases.archive.store import BlobStore
from facecommons.releases.models import Blob

# contribution id -> variant -> (storage key, sha256, size), as ``selection.files_for`` reads them.
PhotoFiles = dict[str, tuple[str, str, int]]


class FileList:
    """The version's files as they are found: manifest lines spooled to disk, documents noted."""

    def __init__(self, tmp_dir: str | None) -> None:
        self.spool: IO[str] = tempfile.TemporaryFile("w+", encoding="utf-8", dir=tmp_dir)  # noqa: SIM115 - closed by close()
        self.documents: dict[str, list[Any]] = {}

    def add(self, path: str, sha256: str, size: int, *, document: bool = False) -> None:
        self.spool.write(mf.Entry(path=path, sha256=sha256, size=size).line())
        if document:
            self.documents[path] = [sha256, size]

    def sorted(self) -> Iterator[mf.Entry]:
        self.spool.seek(0)
        return mf.sorted_entries(mf.parse(line) for line in self.spool)

    def close(self) -> None:
        self.spool.close()


@dataclass(slots=True)
class Placed:
    """A photo written into the version: what its entry row records."""

    contribution_id: Any
    subject_id: str
    split: str
    sha256: str
    file_name: str
    extra_files: list[str]
    byte_size: int
    attributes: dict[str, Any]


class VersionWriter:
    """Writes one version. Use as a context manager (the spooled files are closed on exit):

        add_photos(...) for each chunk -> store_metadata() -> store_documents(ctx) -> seal(counts)
    """

    def __init__(self, *, store: BlobStore, schema: list[tuple[str, bool]], k: int, tmp_dir: str | None = None) -> None:
        self.store = store
        self.schema = schema
        self.tmp_dir = tmp_dir
        self.files = FileList(tmp_dir)
        self.composition = documents.Composition(schema=schema, k=k)
        self._jsonl = {s: tempfile.TemporaryFile("w+b", dir=tmp_dir) for s in splits.SPLITS}  # noqa: SIM115 - closed by close()
        self._parquet = tempfile.TemporaryFile("w+b", dir=tmp_dir)  # noqa: SIM115 - closed by close()
        self._pq_schema = rows.parquet_schema(schema)
        self._pq_writer = pq.ParquetWriter(self._parquet, self._pq_schema, compression="zstd")

    def __enter__(self) -> VersionWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._pq_writer.close()  # idempotent
        for f in (*self._jsonl.values(), self._parquet):
            f.close()
        self.files.close()

    # --- photos -------------------------------------------------------------------------------

    def add_photos(self, chunk: list[dict[str, Any]], found: dict[Any, PhotoFiles],
                   people: dict[int, tuple[str, str]]) -> list[Placed]:
        """Store a chunk of photos (``selection.iter_rows`` rows; ``found`` from
        ``selection.files_for``; ``people``: owner id -> (subject id, split)) and their metadata.

        A photo whose original is gone (deleted while we built: a withdrawal) is left out.
        """
        known = self.store.known(sha for cf in found.values() for _, sha, _ in cf.values())
        new_blobs: list[Blob] = []
        table: list[dict[str, Any]] = []
        placed: list[Placed] = []
        for r in chunk:
            cf = found.get(r["id"], {})
            if "original" not in cf or not self._store_photo(cf, known, new_blobs, r["id"]):
                continue
            subject_id, split = people[r["owner_id"]]
            image_rel = f"{split}/{r['sha256']}.jpg"
            self.files.add(image_rel, r["sha256"], cf["original"][2])
            for variant, folder in CROPS:
                if variant in cf:
                    self.files.add(f"{folder}/{cf[variant][1]}.jpg", cf[variant][1], cf[variant][2])
            row = rows.metadata_row(r=r, files=cf, subject_id=subject_id, split=split, schema=self.schema)
            self._jsonl[split].write((json.dumps(rows.jsonl_row(row), ensure_ascii=False) + "\n").encode())
            row["file_name"] = image_rel
            table.append(row)
            self.composition.add(row, split)
            self.composition.saw(r["created_at"].date().isoformat())
            placed.append(Placed(contribution_id=r["id"], subject_id=subject_id, split=split, sha256=r["sha256"],
                                 file_name=image_rel, extra_files=crop_paths(cf), byte_size=r["byte_size"],
                                 attributes=rows.attributes_of(row, self.schema)))
        Blob.objects.bulk_create(new_blobs, ignore_conflicts=True)
        if table:
            self._pq_writer.write_table(pa.Table.from_pylist(table, schema=self._pq_schema))
        return placed

    def _store_photo(self, cf: PhotoFiles, known: set[str], new_blobs: list[Blob], contribution_id: Any) -> bool:
        """Store the photo's original and crops that are not stored yet; False if the original is gone."""
        for variant in ("original", *(v for v, _ in CROPS)):
            if variant not in cf:
                continue
            key, sha, size = cf[variant]
            if sha in known:
                continue
            try:
                self.store.put_stored(source_key=key, sha256=sha, size=size)
            except FileNotFoundError:
                if variant == "original":
                    return False
                cf.pop(variant)
                continue
            known.add(sha)
            new_blobs.append(Blob(sha256=sha, size=size, contribution_id=contribution_id))
        return True

    # --- metadata and documents ---------------------------------------------------------------

    def _put(self, path: str, fh: IO[bytes], docs: list[Blob]) -> tuple[str, int]:
        fh.seek(0)
        sha, size = self.store.put_file(fh)
        self.files.add(path, sha, size, document=True)
        docs.append(Blob(sha256=sha, size=size))
        return sha, size

    def store_metadata(self) -> tuple[str, int]:
        """Store metadata.jsonl (per non-empty split) and metadata.parquet; returns the parquet's
        (sha256, size), which the documents cite."""
        self._pq_writer.close()
        docs: list[Blob] = []
        for s in splits.SPLITS:
            # An empty split gets no folder at all: `datasets` refuses a split with a metadata file
            # but no images, which small snapshots (few people) can have.
            if self._jsonl[s].tell() > 0:
                self._put(f"{s}/metadata.jsonl", self._jsonl[s], docs)
        parquet = self._put("metadata.parquet", self._parquet, docs)
        Blob.objects.bulk_create(docs, ignore_conflicts=True)
        return parquet

    def store_documents(self, ctx: documents.DocumentContext, changes: documents.ChangelogSections) -> None:
        """Store CHANGELOG.md, croissant.json, DATASHEET.md and LICENSE."""
        docs: list[Blob] = []
        with tempfile.TemporaryFile("w+b", dir=self.tmp_dir) as changelog:
            documents.changelog(ctx, changes, changelog)
            self._put("CHANGELOG.md", changelog, docs)
        for path, text in (("croissant.json", croissant(ctx)), ("DATASHEET.md", documents.datasheet(ctx)),
                           ("LICENSE", documents.license_text(ctx))):
            with tempfile.TemporaryFile("w+b", dir=self.tmp_dir) as fh:
                fh.write(text.encode())
                self._put(path, fh, docs)
        Blob.objects.bulk_create(docs, ignore_conflicts=True)

    # --- the seal -----------------------------------------------------------------------------

    def seal(self, counts: dict[str, Any]) -> dict[str, Any]:
        """SHA256SUMS (every other file), then the manifest, stored like any file. Returns the
        snapshot fields to publish (``counts`` gains what this version stored and its file count)."""
        with tempfile.TemporaryFile("w+b", dir=self.tmp_dir) as sums:
            for e in self.files.sorted():
                sums.write(f"{e.sha256}  {e.path}\n".encode())
            sums.seek(0)
            sha, size = self.store.put_file(sums)
        self.files.add("SHA256SUMS", sha, size, document=True)
        # What this version added to the store (the files it lists; its manifest is one more).
        counts.update(stored_bytes=self.store.stored_bytes, stored_files=self.store.stored_files)
        n = total_bytes = archive = 0
        with tempfile.TemporaryFile("w+b", dir=self.tmp_dir) as out:
            for e in self.files.sorted():
                out.write(e.line().encode())
                n += 1
                total_bytes += e.size
                archive += tarstream.archive_size([e]) - len(tarstream.END)
            out.seek(0)
            manifest_sha, manifest_size = self.store.put_file(out)
        Blob.objects.bulk_create([Blob(sha256=sha, size=size), Blob(sha256=manifest_sha, size=manifest_size)],
                                 ignore_conflicts=True)
        counts["files"] = n
        return {"manifest_sha256": manifest_sha, "manifest_files": n, "manifest_bytes": total_bytes,
                "archive_size": archive + len(tarstream.END), "documents": self.files.documents, "counts": counts}
