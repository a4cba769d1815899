"""Building a snapshot version: select, split, store what is new, write the documents and the
manifest, publish.

Bytes: every image and crop is a blob stored once (``archive.store``); a photo already stored
by an earlier version costs one row lookup, so a new version stores only what is new. Nothing
here writes an archive: the tar is streamed from the blobs when someone downloads it.

Memory: photos are read ``CHUNK`` at a time; metadata files and the manifest are spooled to
temporary files (the manifest sorted in bounded runs); what stays in memory is one small record
per person and the category counters.

Determinism: splits are a pure function of (version, people, earlier splits); documents and the
manifest depend only on the selection, so a rebuild of the same snapshot gives the same manifest.
"""

from __future__ import annotations

import json
import logging
import tempfile
import time
from collections import Counter
from typing import IO, Any

from django.conf import settings

from facecommons.common.conf import setting
from facecommons.releases import state
from facecommons.releases.archive import documents, rows, selection, splits, tarstream
from facecommons.releases.archive import manifest as mf
from facecommons.releases.archive.croissant import croissant
from facecommons.releases.archive.store import BlobStore
from facecommons.releases.models import Blob, Snapshot, SnapshotEntry, SnapshotStatus
from facecommons.releases.withdrawals import withdrawal_record_gone

logger = logging.getLogger(__name__)

PROGRESS_EVERY_S = 1.0
# Re-exported for callers that split or select without building.
assign_splits = splits.assign_splits
eligible_contributions = selection.eligible_contributions


class _Progress:
    def __init__(self, snapshot_id: int) -> None:
        self.snapshot_id = snapshot_id
        self.last = 0.0

    def __call__(self, phase: str, done: int, total: int, *, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self.last >= PROGRESS_EVERY_S:
            self.last = now
            state.snapshot_progress_report(snapshot_id=self.snapshot_id, phase=phase, done=done, total=total)


def snapshot_build(*, snapshot_id: int) -> Snapshot | None:
    """Build and publish the snapshot; None when another run owns it or it is published.

    A failure is recorded (status failed, the error, an audit event) and re-raised.
    """
    snap = state.snapshot_claim(snapshot_id)
    if snap is None:
        return None
    # Rows of an interrupted earlier run of this build: start clean (the build is deterministic).
    SnapshotEntry.objects.filter(snapshot_id=snapshot_id).delete()
    try:
        fields = _build(snap)
    except Exception as exc:
        state.snapshot_fail(snapshot_id=snap.pk, error=f"{type(exc).__name__}: {exc}")
        logger.exception("snapshot %s failed", snap.version)
        raise
    return _publish(snap, fields)


def _people(snap: Snapshot, qs: Any) -> tuple[dict[int, str], dict[int, str], int]:
    """Pass 1, one record per person: (owner -> subject id, owner -> split, photos)."""
    per_owner: dict[int, list[Any]] = {}
    for owner_id, cats, corr in qs.values_list("owner_id", "categories", "corrected_categories").iterator(chunk_size=2000):
        rec = per_owner.setdefault(owner_id, [0, Counter()])
        rec[0] += 1
        rec[1][splits.stratum_of({**(cats or {}), **(corr or {})})] += 1
    subjects = selection.subjects_for(per_owner)
    strata = [(subjects[o], rec[1].most_common(1)[0][0], rec[0]) for o, rec in per_owner.items()]
    assigned = splits.assign_splits(strata, seed=snap.version, fixed=selection.earlier_splits([s for s, _, _ in strata]))
    return subjects, {o: assigned[subjects[o]] for o in per_owner}, sum(rec[0] for rec in per_owner.values())


class _Files:
    """The version's files as they are found: manifest lines spooled to disk, documents noted."""

    def __init__(self, tmp_dir: str | None) -> None:
        self.spool: IO[str] = tempfile.TemporaryFile("w+", encoding="utf-8", dir=tmp_dir)  # noqa: SIM115
        self.documents: dict[str, list[Any]] = {}

    def add(self, path: str, sha256: str, size: int, *, document: bool = False) -> None:
        self.spool.write(mf.Entry(path=path, sha256=sha256, size=size).line())
        if document:
            self.documents[path] = [sha256, size]

    def sorted(self) -> Any:
        self.spool.seek(0)
        return mf.sorted_entries(mf.parse(line) for line in self.spool)


def _build(snap: Snapshot) -> dict[str, Any]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    progress = _Progress(snap.pk)
    store = BlobStore()
    schema = selection.category_schema()
    qs = selection.eligible_contributions(snap.cutoff_at)
    subjects, owner_split, total = _people(snap, qs)
    progress("storing", 0, total, force=True)

    tmp_dir = getattr(settings, "FILE_UPLOAD_TEMP_DIR", None) or None
    files = _Files(tmp_dir)
    jsonl = {s: tempfile.TemporaryFile("w+b", dir=tmp_dir) for s in splits.SPLITS}  # noqa: SIM115 - closed below
    parquet_tmp = tempfile.TemporaryFile("w+b", dir=tmp_dir)  # noqa: SIM115
    pq_schema = rows.parquet_schema(schema)
    pq_writer = pq.ParquetWriter(parquet_tmp, pq_schema, compression="zstd")
    stats = documents.Composition(schema=schema, k=setting("STATS_MIN_COUNT", 5))
    done = seq = 0
    try:
        for chunk in selection.iter_rows(qs):
            found = selection.files_for([r["id"] for r in chunk])
            known = store.known(sha for cf in found.values() for _, sha, _ in cf.values())
            new_blobs: list[Blob] = []
            table, entries = [], []
            for r in chunk:
                cf = found.get(r["id"], {})
                if "original" not in cf or not _store(store, cf, known, new_blobs, r["id"]):
                    continue  # no original, or deleted while we built (a withdrawal): left out
                split = owner_split[r["owner_id"]]
                image_rel = f"{split}/{r['sha256']}.jpg"
                files.add(image_rel, r["sha256"], cf["original"][2])
                for variant, folder in selection.CROPS:
                    if variant in cf:
                        files.add(f"{folder}/{cf[variant][1]}.jpg", cf[variant][1], cf[variant][2])
                row = rows.metadata_row(r=r, files=cf, subject_id=subjects[r["owner_id"]], split=split, schema=schema)
                jsonl[split].write((json.dumps(rows.jsonl_row(row), ensure_ascii=False) + "\n").encode())
                row["file_name"] = image_rel
                table.append(row)
                stats.add(row, split)
                stats.saw(r["created_at"].date().isoformat())
                seq += 1
                entries.append(SnapshotEntry(
                    snapshot=snap, contribution_id=r["id"], subject_id=subjects[r["owner_id"]], split=split, seq=seq,
                    sha256=r["sha256"], file_name=image_rel, extra_files=selection.crop_paths(cf),
                    byte_size=r["byte_size"], attributes=rows.attributes_of(row, schema)))
            Blob.objects.bulk_create(new_blobs, ignore_conflicts=True)
            if table:
                pq_writer.write_table(pa.Table.from_pylist(table, schema=pq_schema))
            SnapshotEntry.objects.bulk_create(entries)
            done += len(chunk)
            progress("storing", done, total)
        pq_writer.close()
        progress("documents", done, total, force=True)
        counts = stats.counts()
        counts.update(_changelog_counts(snap))
        _documents(snap, store, files, jsonl, parquet_tmp, stats, schema, counts)
        return _seal(snap, store, files, counts)
    finally:
        for f in (*jsonl.values(), parquet_tmp):
            f.close()
        files.spool.close()


def _store(store: BlobStore, cf: dict[str, tuple[str, str, int]], known: set[str], new_blobs: list[Blob],
           contribution_id: Any) -> bool:
    """Store the photo's original and crops that are not stored yet; False if the original is gone."""
    for variant in ("original", *(v for v, _ in selection.CROPS)):
        if variant not in cf:
            continue
        key, sha, size = cf[variant]
        if sha in known:
            continue
        try:
            store.put_stored(source_key=key, sha256=sha, size=size)
        except FileNotFoundError:
            if variant == "original":
                return False
            cf.pop(variant)
            continue
        known.add(sha)
        new_blobs.append(Blob(sha256=sha, size=size, contribution_id=contribution_id))
    return True


def _documents(snap: Snapshot, store: BlobStore, files: _Files, jsonl: dict[str, Any], parquet_tmp: IO[bytes],
               stats: documents.Composition, schema: list[tuple[str, bool]], counts: dict[str, Any]) -> None:
    """Store metadata.jsonl (per non-empty split), metadata.parquet and the documents."""
    docs: list[Blob] = []

    def put(path: str, fh: IO[bytes]) -> tuple[str, int]:
        fh.seek(0)
        sha, size = store.put_file(fh)
        files.add(path, sha, size, document=True)
        docs.append(Blob(sha256=sha, size=size))
        return sha, size

    for s in splits.SPLITS:
        # An empty split gets no folder at all: `datasets` refuses a split with a metadata file
        # but no images, which small snapshots (few people) can have.
        if jsonl[s].tell() > 0:
            put(f"{s}/metadata.jsonl", jsonl[s])
    parquet_sha, parquet_size = put("metadata.parquet", parquet_tmp)
    context = documents.DocumentContext(snapshot=snap, counts=counts, composition=stats, schema=schema,
                                        parquet_sha256=parquet_sha, parquet_size=parquet_size)
    with tempfile.TemporaryFile("w+b") as changelog:
        documents.changelog(context, changelog)
        put("CHANGELOG.md", changelog)
    for path, text in (("croissant.json", croissant(context)), ("DATASHEET.md", documents.datasheet(context)),
                       ("LICENSE", documents.license_text(context))):
        with tempfile.TemporaryFile("w+b") as fh:
            fh.write(text.encode())
            put(path, fh)
    Blob.objects.bulk_create(docs, ignore_conflicts=True)


def _seal(snap: Snapshot, store: BlobStore, files: _Files, counts: dict[str, Any]) -> dict[str, Any]:
    """SHA256SUMS (every other file), then the manifest, stored like any file; the archive's size."""
    with tempfile.TemporaryFile("w+b") as sums:
        for e in files.sorted():
            sums.write(f"{e.sha256}  {e.path}\n".encode())
        sums.seek(0)
        sha, size = store.put_file(sums)
    files.add("SHA256SUMS", sha, size, document=True)
    # What this version added to the store (the files it lists; its manifest is one more).
    counts.update(stored_bytes=store.stored_bytes, stored_files=store.stored_files)
    n = total_bytes = archive = 0
    with tempfile.TemporaryFile("w+b") as out:
        for e in files.sorted():
            out.write(e.line().encode())
            n += 1
            total_bytes += e.size
            archive += tarstream.archive_size([e]) - len(tarstream.END)
        out.seek(0)
        manifest_sha, manifest_size = store.put_file(out)
    Blob.objects.bulk_create([Blob(sha256=sha, size=size), Blob(sha256=manifest_sha, size=manifest_size)],
                             ignore_conflicts=True)
    counts["files"] = n
    return {"manifest_sha256": manifest_sha, "manifest_files": n, "manifest_bytes": total_bytes,
            "archive_size": archive + len(tarstream.END), "documents": files.documents, "counts": counts,
            "phase": "published", "progress_done": counts.get("photos", 0), "progress_total": counts.get("photos", 0)}


def _changelog_counts(snap: Snapshot) -> dict[str, Any]:
    prev = snap.previous
    new = SnapshotEntry.objects.filter(snapshot=snap)
    if prev is None:
        return {"previous": None, "added_photos": new.count(), "removed_photos": 0,
                "added_subjects": new.values("subject_id").distinct().count(), "removed_subjects": 0}
    old = SnapshotEntry.objects.filter(snapshot=prev)
    return {
        "previous": prev.version,
        "added_photos": new.exclude(sha256__in=old.values("sha256")).count(),
        "removed_photos": old.exclude(sha256__in=new.values("sha256")).count(),
        "added_subjects": new.exclude(subject_id__in=old.values("subject_id")).values("subject_id").distinct().count(),
        "removed_subjects": old.exclude(subject_id__in=new.values("subject_id")).values("subject_id").distinct().count(),
    }


def _publish(snap: Snapshot, fields: dict[str, Any]) -> Snapshot:
    def publish() -> Snapshot:
        s = state.snapshot_transition(snapshot_id=snap.pk, to=SnapshotStatus.PUBLISHED, fields=fields,
                                      after={"photos": fields["counts"].get("photos", 0),
                                             "stored_bytes": fields["counts"].get("stored_bytes", 0)})
        # Photos withdrawn or deleted while we built: record them against this snapshot at once.
        withdrawal_record_gone(snapshot=s)
        return s

    return state._atomic(publish)
