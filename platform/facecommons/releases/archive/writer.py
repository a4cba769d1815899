"""Writing one version's files into the content-addressed store: the photos and their crops as
they come, metadata.jsonl per split and metadata.parquet, the documents, then SHA256SUMS and
the manifest.

Two ways, one result. From nothing (the first version, or after the taxonomy changed) every
photo goes through ``add_photos``. The next version starts from the previous one (``Base``):
only the photos new or changed since go through ``add_photos``, and the previous version's
metadata files and manifest are merged with them, less the photos that left, in one streaming
pass each. Both give the same bytes for the same photos: rows are ordered by the photo's
SHA-256, paths bytewise, and metadata.parquet is cut into row groups of exactly ``ROW_GROUP``
rows whatever the order of writes. (``tests/releases/test_versions.py`` builds a version both
ways and compares the manifests.)

Bytes: a file already stored by an earlier version costs one row lookup (``BlobStore.known``),
so a version stores only what is new. Nothing here writes an archive: the tar is streamed from
the blobs when someone downloads it.

Memory: the manifest's lines and the metadata files are spooled to temporary files (the
manifest sorted in bounded runs), the previous version's files are read as streams; what stays
in memory is the category counters and the rows of the photos that changed.

Nothing here reads or changes a snapshot: the caller passes plain rows in and gets plain data
back (the entries to record, the fields to publish).
"""

from __future__ import annotations

import bisect
import heapq
import json
import shutil
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import IO, Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from django.utils import timezone

from facecommons.common.db import bulk_insert
from facecommons.releases.archive import documents, rows, splits, tarstream
from facecommons.releases.archive.croissant import croissant
from facecommons.releases.archive.selection import CROPS, crop_paths
from facecommons.releases.archive.store import BlobStore
from facecommons.releases.models import Blob

# contribution id -> variant -> (storage key, sha256, size), as ``selection.files_for`` reads them.
PhotoFiles = dict[str, tuple[str, str, int]]
ROW_GROUP = 500  # rows per row group of metadata.parquet
STORE_THREADS = 4  # files stored at a time
RUN_LINES = 200_000  # manifest lines sorted in memory at a time (about 25 MB); more spill to disk
SUMS = "SHA256SUMS"
# A metadata.jsonl line starts with the photo's file name, "<sha256>.jpg" (``rows.jsonl_row``).
_JSONL_HEAD = b'{"file_name": "'
_SHA = slice(len(_JSONL_HEAD), len(_JSONL_HEAD) + 64)


def _path(line: str) -> str:
    """The path of a manifest line, ``<sha256> <size> <path>\\n`` (with its newline, which sorts
    before every character a path has, so the order is the paths' order)."""
    return line[line.index(" ", 65) + 1:]


def _line(path: str, sha256: str, size: int) -> str:
    return f"{sha256} {size} {path}\n"


class FileList:
    """The version's files as they are found: manifest lines spooled to disk, documents noted."""

    def __init__(self, tmp_dir: str | None) -> None:
        self.tmp_dir = tmp_dir
        self.spool: IO[str] = tempfile.TemporaryFile("w+", encoding="utf-8", dir=tmp_dir)  # noqa: SIM115 - closed by close()
        self.documents: dict[str, list[Any]] = {}
        self._runs: list[IO[str]] = []

    def add(self, path: str, sha256: str, size: int, *, document: bool = False) -> None:
        self.spool.write(_line(path, sha256, size))
        if document:
            self.documents[path] = [sha256, size]

    def sorted(self) -> Iterator[str]:
        """The lines added, sorted by path, with bounded memory: sorted runs spilled to disk, merged."""
        self.spool.seek(0)
        batch: list[str] = []
        for line in self.spool:
            batch.append(line)
            if len(batch) >= RUN_LINES:
                self._runs.append(self._spill(batch))
                batch = []
        batch.sort(key=_path)
        if not self._runs:
            return iter(batch)
        self._runs.append(self._spill(batch))
        return heapq.merge(*self._runs, key=_path)

    def _spill(self, batch: list[str]) -> IO[str]:
        batch.sort(key=_path)
        run = tempfile.TemporaryFile("w+", encoding="utf-8", dir=self.tmp_dir)  # noqa: SIM115 - closed by close()
        run.writelines(batch)
        run.seek(0)
        return run

    def close(self) -> None:
        for f in (self.spool, *self._runs):
            f.close()


class RowGroups:
    """Writes tables to metadata.parquet in row groups of exactly ``ROW_GROUP`` rows (the last
    one shorter), however the rows arrive: the file's bytes depend on its rows only."""

    def __init__(self, writer: pq.ParquetWriter, schema: pa.Schema) -> None:
        self.writer, self.schema = writer, schema
        self.pending: list[pa.Table] = []
        self.n = 0

    def push(self, table: pa.Table) -> None:
        if table.num_rows == 0:
            return
        self.pending.append(table)
        self.n += table.num_rows
        if self.n >= ROW_GROUP:
            whole = pa.concat_tables(self.pending)
            cut = self.n - self.n % ROW_GROUP
            self._write(whole.slice(0, cut))
            rest = whole.slice(cut)
            self.pending, self.n = ([rest] if rest.num_rows else []), rest.num_rows

    def _write(self, table: pa.Table) -> None:
        self.writer.write_table(table.cast(self.schema).combine_chunks(), row_group_size=ROW_GROUP)

    def close(self) -> None:
        if self.pending:
            self._write(pa.concat_tables(self.pending))
            self.pending, self.n = [], 0
        self.writer.close()  # idempotent


@dataclass
class Base:
    """The previous version a build starts from: its documents (path -> [sha256, size]), its
    manifest, its raw counters (``Composition.state``), and the photos it held that this version
    drops (they left, or changed and come again): their SHA-256s and their files' paths."""

    documents: dict[str, list[Any]]
    manifest_sha256: str
    composition: dict[str, Any]
    dropped_shas: set[str] = field(default_factory=set)
    dropped_paths: set[str] = field(default_factory=set)


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
    stratum: str


class VersionWriter:
    """Writes one version. Use as a context manager (the spooled files are closed on exit):

        add_photos(...) for each chunk -> store_metadata() -> store_documents(ctx) -> seal(counts)

    With ``base``, the photos given are those new or changed since that version, and its
    metadata and manifest, less ``base.dropped_*``, are merged in.
    """

    def __init__(self, *, store: BlobStore, schema: list[tuple[str, bool]], k: int, tmp_dir: str | None = None,
                 base: Base | None = None) -> None:
        self.store = store
        self.schema = schema
        self.tmp_dir = tmp_dir
        self.base = base
        self.files = FileList(tmp_dir)
        self.composition = (documents.Composition.from_state(base.composition, schema=schema, k=k) if base
                            else documents.Composition(schema=schema, k=k))
        self._jsonl = {s: tempfile.TemporaryFile("w+b", dir=tmp_dir) for s in splits.SPLITS}  # noqa: SIM115 - closed by close()
        self._parquet = tempfile.TemporaryFile("w+b", dir=tmp_dir)  # noqa: SIM115 - closed by close()
        self._pq_schema = rows.parquet_schema(schema)
        self._groups = RowGroups(pq.ParquetWriter(self._parquet, self._pq_schema, compression="zstd"),
                                 self._pq_schema)
        self._new_rows: list[pa.Table] = []  # with a base: the new photos' rows, merged at the end
        self._pool: ThreadPoolExecutor | None = None

    def __enter__(self) -> VersionWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()
        self._groups.writer.close()  # idempotent
        for f in (*self._jsonl.values(), self._parquet):
            f.close()
        self.files.close()

    # --- photos -------------------------------------------------------------------------------

    def add_photos(self, chunk: list[dict[str, Any]], found: dict[Any, PhotoFiles],
                   people: dict[int, tuple[str, str]]) -> list[Placed]:
        """Store a chunk of photos (``selection.iter_rows`` rows, in SHA-256 order; ``found`` from
        ``selection.files_for``; ``people``: owner id -> (subject id, split)) and their metadata.

        A photo whose original is gone (deleted while we built: a withdrawal) is left out.
        """
        new_blobs, gone = self._store_files(chunk, found)
        table: list[dict[str, Any]] = []
        placed: list[Placed] = []
        add_file, jsonl = self.files.add, self._jsonl
        for r in chunk:
            cf = found.get(r["id"], {})
            if "original" not in cf or (r["id"], "original") in gone:
                continue
            for variant, _ in CROPS:
                if (r["id"], variant) in gone:
                    cf.pop(variant, None)
            subject_id, split = people[r["owner_id"]]
            image_rel = f"{split}/{r['sha256']}.jpg"
            add_file(image_rel, r["sha256"], cf["original"][2])
            for variant, folder in CROPS:
                if variant in cf:
                    add_file(f"{folder}/{cf[variant][1]}.jpg", cf[variant][1], cf[variant][2])
            row = rows.metadata_row(r=r, files=cf, subject_id=subject_id, split=split, schema=self.schema)
            jsonl[split].write((json.dumps(rows.jsonl_row(row), ensure_ascii=False) + "\n").encode())
            row["file_name"] = image_rel
            table.append(row)
            self.composition.add(row, split)
            placed.append(Placed(contribution_id=r["id"], subject_id=subject_id, split=split, sha256=r["sha256"],
                                 file_name=image_rel, extra_files=crop_paths(cf), byte_size=r["byte_size"],
                                 attributes=rows.attributes_of(row, self.schema), stratum=splits.stratum_of(row)))
        now = timezone.now()
        bulk_insert(Blob, ("sha256", "size", "contribution_id", "created_at"),
                    [(sha, size, cid, now) for sha, size, cid in new_blobs], ignore_conflicts=True)
        if table:
            t = pa.Table.from_pylist(table, schema=self._pq_schema)
            if self.base is None:
                self._groups.push(t)
            else:
                self._new_rows.append(t)
        return placed

    def _store_files(self, chunk: list[dict[str, Any]], found: dict[Any, PhotoFiles]
                     ) -> tuple[list[tuple[str, int, Any]], set[tuple[Any, str]]]:
        """Store the chunk's originals and crops that are not stored yet; copies ``STORE_THREADS``
        at a time (creating and writing files waits on the file system, not on Python). Returns the
        blobs stored, as (sha256, size, contribution id), and the (contribution id, variant)
        whose source is gone (deleted by a withdrawal meanwhile)."""
        known = self.store.known(sha for cf in found.values() for _, sha, _ in cf.values())
        jobs: list[tuple[Any, str, str, str, int]] = []
        for r in chunk:
            for variant, (key, sha, size) in found.get(r["id"], {}).items():
                if sha not in known:
                    known.add(sha)
                    jobs.append((r["id"], variant, key, sha, size))

        def put(job: tuple[Any, str, str, str, int]) -> bool:
            try:
                self.store.put_stored(source_key=job[2], sha256=job[3], size=job[4])
            except FileNotFoundError:
                return False
            return True

        # Hard links are quick and would only contend for the interpreter; copies wait on I/O.
        copies = not (self.store.link and self.store.root)
        if self._pool is None and copies and len(jobs) > 1:
            self._pool = ThreadPoolExecutor(STORE_THREADS, thread_name_prefix="blob-store")
        done = list(self._pool.map(put, jobs)) if self._pool is not None else [put(j) for j in jobs]
        stored = [(sha, size, cid) for (cid, _, _, sha, size), ok in zip(jobs, done, strict=True) if ok]
        gone = {(cid, variant) for (cid, variant, _, _, _), ok in zip(jobs, done, strict=True) if not ok}
        # A photo whose original is gone was withdrawn meanwhile: none of its files may stay.
        lost = {cid for cid, variant in gone if variant == "original"}
        for sha, _, cid in stored:
            if cid in lost:
                self.store.delete(sha)
        return [b for b in stored if b[2] not in lost], gone

    # --- metadata and documents ---------------------------------------------------------------

    def _put(self, path: str, fh: IO[bytes], docs: list[tuple[str, int]]) -> tuple[str, int]:
        fh.seek(0)
        sha, size = self.store.put_file(fh)
        self.files.add(path, sha, size, document=True)
        docs.append((sha, size))
        return sha, size

    def _store_docs(self, docs: list[tuple[str, int]]) -> None:
        now = timezone.now()
        bulk_insert(Blob, ("sha256", "size", "created_at"), [(sha, size, now) for sha, size in docs],
                    ignore_conflicts=True)

    def store_metadata(self) -> tuple[str, int]:
        """Store metadata.jsonl (per non-empty split) and metadata.parquet; returns the parquet's
        (sha256, size), which the documents cite."""
        if self.base is not None:
            self._merge_parquet()
        self._groups.close()
        docs: list[tuple[str, int]] = []
        for s in splits.SPLITS:
            fh = self._jsonl[s] if self.base is None else self._merge_jsonl(s)
            # An empty split gets no folder at all: `datasets` refuses a split with a metadata file
            # but no images, which small snapshots (few people) can have.
            fh.seek(0, 2)
            if fh.tell() > 0:
                self._put(f"{s}/metadata.jsonl", fh, docs)
        parquet = self._put("metadata.parquet", self._parquet, docs)
        self._store_docs(docs)
        return parquet

    def _open_base(self, path: str) -> IO[bytes] | None:
        doc = self.base.documents.get(path) if self.base else None
        return self.store.open(doc[0]) if doc else None

    def _merge_jsonl(self, split: str) -> IO[bytes]:
        """The previous version's lines of ``split``, less the dropped photos, merged with the
        new ones; both sorted by SHA-256."""
        assert self.base is not None
        new_fh = self._jsonl[split]
        new_fh.seek(0)
        new = new_fh.readlines()
        out = tempfile.TemporaryFile("w+b", dir=self.tmp_dir)  # noqa: SIM115 - replaces the spool, closed by close()
        self._jsonl[split] = out
        new_fh.close()
        dropped, i = self.base.dropped_shas, 0
        base = self._open_base(f"{split}/metadata.jsonl")
        if base is not None:
            with base:
                for line in base:
                    if not line.startswith(_JSONL_HEAD):
                        raise ValueError(f"{split}/metadata.jsonl of the previous version has an unexpected line")
                    sha = line[_SHA]
                    if sha.decode() in dropped:
                        continue
                    while i < len(new) and new[i][_SHA] < sha:
                        out.write(new[i])
                        i += 1
                    out.write(line)
        out.writelines(new[i:])
        return out

    def _merge_parquet(self) -> None:
        """The previous version's metadata.parquet, less the dropped photos (un-counted from the
        composition), merged with the new rows, streamed one row group at a time."""
        assert self.base is not None
        new = (pa.concat_tables(self._new_rows).sort_by("sha256") if self._new_rows
               else self._pq_schema.empty_table())
        new_shas = new.column("sha256").to_pylist()
        dropped = pa.array(sorted(self.base.dropped_shas), type=pa.string())
        i = 0
        base = self._open_base("metadata.parquet")
        if base is not None:
            with base, tempfile.TemporaryFile("w+b", dir=self.tmp_dir) as local:
                shutil.copyfileobj(base, local)  # a seekable local copy, whatever the storage
                for batch in pq.ParquetFile(local).iter_batches(batch_size=ROW_GROUP):
                    t = pa.Table.from_batches([batch])
                    if len(dropped):
                        mask = pc.is_in(t.column("sha256"), value_set=dropped)
                        for row in t.filter(mask).to_pylist():
                            self.composition.remove(row, row["split"])
                        t = t.filter(pc.invert(mask))
                    if t.num_rows:
                        j = bisect.bisect_right(new_shas, t.column("sha256")[-1].as_py())
                        if j > i:
                            t = pa.concat_tables([t.cast(self._pq_schema), new.slice(i, j - i)]).sort_by("sha256")
                            i = j
                        self._groups.push(t)
        self._groups.push(new.slice(i))

    def store_documents(self, ctx: documents.DocumentContext, changes: documents.ChangelogSections) -> None:
        """Store CHANGELOG.md, croissant.json, DATASHEET.md and LICENSE."""
        docs: list[tuple[str, int]] = []
        with tempfile.TemporaryFile("w+b", dir=self.tmp_dir) as changelog:
            documents.changelog(ctx, changes, changelog)
            self._put("CHANGELOG.md", changelog, docs)
        for path, text in (("croissant.json", croissant(ctx)), ("DATASHEET.md", documents.datasheet(ctx)),
                           ("LICENSE", documents.license_text(ctx))):
            with tempfile.TemporaryFile("w+b", dir=self.tmp_dir) as fh:
                fh.write(text.encode())
                self._put(path, fh, docs)
        self._store_docs(docs)

    # --- the seal -----------------------------------------------------------------------------

    def _all_lines(self) -> Iterator[str]:
        """Every file of the version but SHA256SUMS, sorted by path: the lines added, merged with
        the previous version's manifest less the dropped photos and its documents."""
        new = self.files.sorted()
        if self.base is None:
            return new
        skip = self.base.dropped_paths | set(self.base.documents) | {SUMS}

        def kept() -> Iterator[str]:
            assert self.base is not None
            with self.store.open(self.base.manifest_sha256) as fh:
                for raw in fh:
                    line = raw.decode("utf-8")
                    if line.strip() and _path(line)[:-1] not in skip:
                        yield line

        return heapq.merge(kept(), new, key=_path)

    def seal(self, counts: dict[str, Any]) -> dict[str, Any]:
        """SHA256SUMS (every other file), then the manifest, stored like any file. Returns the
        snapshot fields to publish (``counts`` gains what this version stored and its file count).

        One pass over the sorted lines writes SHA256SUMS and the manifest's lines, in two parts
        around the place where SHA256SUMS's own line goes; the parts are then joined by copying.
        """
        n = total_bytes = archive = 0
        block = tarstream.BLOCK
        sums_key = SUMS + "\n"
        with tempfile.TemporaryFile("w+b", dir=self.tmp_dir) as sums, \
                tempfile.TemporaryFile("w+b", dir=self.tmp_dir) as before, \
                tempfile.TemporaryFile("w+b", dir=self.tmp_dir) as after:
            part = before
            for line in self._all_lines():
                sha, size_s, path = line.split(" ", 2)
                if part is before and path > sums_key:
                    part = after
                part.write(line.encode())
                sums.write(f"{sha}  {path}".encode())
                size = int(size_s)
                n += 1
                total_bytes += size
                archive += block + (size + block - 1) // block * block
            sums.seek(0)
            sums_sha, sums_size = self.store.put_file(sums)
            self.files.documents[SUMS] = [sums_sha, sums_size]
            # What this version added to the store (the files it lists; its manifest is one more).
            counts.update(stored_bytes=self.store.stored_bytes, stored_files=self.store.stored_files)
            with tempfile.TemporaryFile("w+b", dir=self.tmp_dir) as out:
                before.seek(0)
                shutil.copyfileobj(before, out)
                out.write(_line(SUMS, sums_sha, sums_size).encode())
                after.seek(0)
                shutil.copyfileobj(after, out)
                out.seek(0)
                manifest_sha, manifest_size = self.store.put_file(out)
        n += 1
        total_bytes += sums_size
        archive += block + (sums_size + block - 1) // block * block
        self._store_docs([(sums_sha, sums_size), (manifest_sha, manifest_size)])
        counts["files"] = n
        return {"manifest_sha256": manifest_sha, "manifest_files": n, "manifest_bytes": total_bytes,
                "archive_size": archive + len(tarstream.END), "documents": self.files.documents, "counts": counts}
