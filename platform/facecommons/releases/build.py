"""Building a snapshot: selection, person-disjoint splits, and the streamed tar.

Memory: photos are handled in chunks of ``CHUNK`` rows; image bytes are copied from storage
to the archive through a 1 MiB buffer; the per-split ``metadata.jsonl``, ``metadata.parquet``,
``SHA256SUMS`` and ``CHANGELOG.md`` are written to temporary files as the photos stream by.
What stays in memory is one small record per *person* (subject id, stratum, split) and the
category counters, so peak memory does not grow with the number of photos.

Content addressing: every image member is named by the SHA-256 of its bytes (which is also
its storage key), and the stored bytes go into the archive as they are: nothing is decoded
or re-encoded, so an unchanged photo costs a copy. The face crops are the pipeline's stored
``crop``/``crop224`` files, addressed the same way.

Determinism: members are written in SHA-256 order with fixed headers (mtime = cut-off,
owner 0:0, mode 0644), splits are a pure function of (version, subjects, earlier splits).
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import random
import tarfile
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from datetime import timedelta
from typing import IO, Any

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from facecommons.accounts.models import ConsentAcceptance
from facecommons.common.audit import audit_record
from facecommons.common.conf import setting
from facecommons.common.storage import private_storage
from facecommons.contributions.models import (
    Category,
    Contribution,
    ContributionFile,
    ContributionStatus,
    FileVariant,
)
from facecommons.releases import documents, hashing
from facecommons.releases.hashing import ThreadedSha256
from facecommons.releases.models import Snapshot, SnapshotEntry, SnapshotStatus, Split, Subject

logger = logging.getLogger(__name__)

CHUNK = 500
COPY_BUFFER = 1 << 20
SPLITS = (Split.TRAIN.value, Split.VALIDATION.value, Split.TEST.value)
RATIOS = {Split.TRAIN.value: 0.8, Split.VALIDATION.value: 0.1, Split.TEST.value: 0.1}
PROGRESS_EVERY_S = 1.0


# --- selection ------------------------------------------------------------------------------

def eligible_contributions(cutoff: Any) -> QuerySet[Contribution]:
    """Approved photos whose owner's consent was in force at ``cutoff``."""
    consent_in_force = ConsentAcceptance.objects.filter(
        user=OuterRef("owner"), adult_confirmed=True, accepted_at__lte=cutoff,
    ).filter(Q(withdrawn_at__isnull=True) | Q(withdrawn_at__gt=cutoff))
    return (Contribution.objects
            .filter(status=ContributionStatus.APPROVED, status_changed_at__lte=cutoff)
            .filter(Q(owner__withdrawn_at__isnull=True) | Q(owner__withdrawn_at__gt=cutoff))
            .filter(Exists(consent_in_force)))


def category_schema() -> list[tuple[str, bool]]:
    """(key, multiple) for every category of the current taxonomy, in display order."""
    return [(c.key, c.multiple) for c in Category.objects.filter(taxonomy__is_current=True).order_by("order", "id")]


def _first(value: Any) -> str:
    if isinstance(value, list):
        return str(value[0]) if value else ""
    return "" if value is None else str(value)


def stratum_of(categories: dict[str, Any]) -> str:
    """The stratum a photo votes for: gender, age range and a coarse skin-tone band."""
    tone = _first(categories.get("skin_tone"))
    band = {"1": "light", "2": "light", "3": "light", "4": "medium", "5": "medium", "6": "medium",
            "7": "medium", "8": "dark", "9": "dark", "10": "dark"}.get(tone, "undeclared")
    return "|".join([_first(categories.get("gender")) or "undeclared",
                     _first(categories.get("age_range")) or "undeclared", band])


# --- splits ----------------------------------------------------------------------------------

def assign_splits(subjects: Iterable[tuple[str, str, int]], *, seed: str,
                  fixed: dict[str, str] | None = None) -> dict[str, str]:
    """Person-disjoint, stratified train/validation/test assignment.

    ``subjects``: (subject_id, stratum, photo count). ``fixed``: splits of people already
    published, which they keep, so that nobody moves from train to test between versions.
    New people are assigned greedily, largest first, to the split furthest below its 80/10/10
    target, counting both the stratum and the whole dataset (so small strata still balance
    overall). A pure function of its arguments: the same snapshot always gets the same splits.
    """
    fixed = fixed or {}
    by_stratum: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for sid, stratum, n in sorted(subjects):
        by_stratum[stratum].append((sid, n))
    total: Counter[str] = Counter()
    for stratum in sorted(by_stratum):
        for sid, n in by_stratum[stratum]:
            if sid in fixed:
                total[fixed[sid]] += n
    result: dict[str, str] = {}
    for stratum in sorted(by_stratum):
        local: Counter[str] = Counter()
        new: list[tuple[str, int]] = []
        for sid, n in by_stratum[stratum]:
            if sid in fixed:
                result[sid] = fixed[sid]
                local[fixed[sid]] += n
            else:
                new.append((sid, n))
        rng = random.Random(f"{seed}:{stratum}")
        rng.shuffle(new)
        new.sort(key=lambda x: -x[1])  # stable: ties keep the seeded order
        for sid, n in new:
            local_total = sum(local.values()) + n
            grand_total = sum(total.values()) + n

            best = max(SPLITS, key=lambda s, lt=local_total, gt=grand_total, loc=local:  # type: ignore[misc]
                       (RATIOS[s] * lt - loc[s] + RATIOS[s] * gt - total[s], RATIOS[s]))
            result[sid] = best
            local[best] += n
            total[best] += n
    return result


def _subjects_for(owner_ids: Iterable[int]) -> dict[int, str]:
    owner_ids = list(owner_ids)
    existing = dict(Subject.objects.filter(user_id__in=owner_ids).values_list("user_id", "subject_id"))
    missing = [oid for oid in owner_ids if oid not in existing]
    if missing:
        Subject.objects.bulk_create([Subject(user_id=oid) for oid in missing], ignore_conflicts=True)
        existing.update(Subject.objects.filter(user_id__in=missing).values_list("user_id", "subject_id"))
    return existing


def _earlier_splits(subject_ids: list[str]) -> dict[str, str]:
    """The split each person had in the most recent published snapshot that held them."""
    out: dict[str, str] = {}
    for i in range(0, len(subject_ids), 900):
        rows = (SnapshotEntry.objects.filter(subject_id__in=subject_ids[i:i + 900],
                                             snapshot__status=SnapshotStatus.PUBLISHED)
                .order_by("snapshot__published_at", "snapshot_id").values_list("subject_id", "split"))
        for sid, split in rows:
            out[sid] = split  # later snapshots overwrite earlier ones
    return out


# --- archive writing ---------------------------------------------------------------------------

ARCHIVE_ROOT = "facecommons"
ARCHIVE_DIRS = ("", "train", "validation", "test", "crops", "crops/112", "crops/224")


class HashingWriter(io.RawIOBase):
    """A write-only sink that hashes (on a second thread) and counts what goes to ``raw``."""

    def __init__(self, raw: IO[bytes], hasher: ThreadedSha256, offset: int = 0) -> None:
        self.raw = raw
        self.sha = hasher
        self.size = offset

    def writable(self) -> bool:
        return True

    def write(self, b: Any) -> int:
        self.raw.write(b)
        self.sha.update(b)
        n = len(b)
        self.size += n
        return n

    def tell(self) -> int:
        return self.size


class ArchiveWriter:
    """A deterministic tar written to ``raw``; members stream from file objects.

    Member names do not carry the version (``facecommons/train/<sha>.jpg``) and image members
    have fixed headers (mtime = the photo's upload time, owner 0:0, mode 0644), so the image
    section of one snapshot is byte-for-byte the start of the next when nothing was removed:
    :meth:`resume` copies it instead of rewriting it.
    """

    def __init__(self, raw: IO[bytes], mtime: int, *, resume_from: tuple[str | None, Any, int, bytes] | None = None):
        self.raw = raw
        self.mtime = mtime
        self.members = 0
        self.sum_lines = 0
        self.sums = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115 - closed in close()
        if resume_from is not None:
            src_path, src_open, size, state = resume_from
            hasher = ThreadedSha256(state, size)
            _copy_prefix(raw, src_path, src_open, size)
            self.sink = HashingWriter(raw, hasher, size)
        else:
            self.sink = HashingWriter(raw, ThreadedSha256())
        self.tar = tarfile.TarFile(fileobj=self.sink, mode="w", format=tarfile.GNU_FORMAT,  # type: ignore[arg-type]
                                   copybufsize=COPY_BUFFER)
        if resume_from is None:
            for d in ARCHIVE_DIRS:
                ti = tarfile.TarInfo(f"{ARCHIVE_ROOT}/{d}".rstrip("/"))
                ti.type, ti.mode, ti.mtime = tarfile.DIRTYPE, 0o755, mtime
                self.tar.addfile(ti)

    @property
    def offset(self) -> int:
        return self.sink.size

    def hash_state(self) -> bytes:
        return self.sink.sha.state()

    def sums_line(self, sha256: str, rel: str) -> None:
        self.sums.write(f"{sha256}  {rel}\n")
        self.sum_lines += 1

    def add_stream(self, rel: str, fileobj: IO[bytes], size: int, sha256: str, mtime: int | None = None) -> None:
        ti = tarfile.TarInfo(f"{ARCHIVE_ROOT}/{rel}")
        ti.size, ti.mode, ti.mtime = size, 0o644, self.mtime if mtime is None else mtime
        self.tar.addfile(ti, fileobj)
        self.sums_line(sha256, rel)
        self.members += 1

    def add_file(self, rel: str, fileobj: IO[bytes], *, in_sums: bool = True) -> str:
        """Add a seekable temporary file (hashed first, for SHA256SUMS)."""
        fileobj.seek(0)
        h = hashlib.sha256()
        for block in iter(lambda: fileobj.read(COPY_BUFFER), b""):
            h.update(block)
        size = fileobj.tell()
        fileobj.seek(0)
        digest = h.hexdigest()
        ti = tarfile.TarInfo(f"{ARCHIVE_ROOT}/{rel}")
        ti.size, ti.mode, ti.mtime = size, 0o644, self.mtime
        self.tar.addfile(ti, fileobj)
        self.members += 1
        if in_sums:
            self.sums_line(digest, rel)
        return digest

    def add_bytes(self, rel: str, data: bytes) -> str:
        return self.add_file(rel, io.BytesIO(data))

    def close(self) -> tuple[int, str]:
        self.sums.seek(0)
        with tempfile.TemporaryFile("w+b") as sums:
            for block in iter(lambda: self.sums.read(COPY_BUFFER), ""):
                sums.write(block.encode())
            self.sums.close()
            self.add_file("SHA256SUMS", sums, in_sums=False)
        self.tar.close()
        digest = self.sink.sha.hexdigest()
        self.sink.sha.close()
        return self.sink.size, digest

    def abort(self) -> None:
        self.sink.sha.close()
        if not self.sums.closed:
            self.sums.close()


def _copy_prefix(raw: IO[bytes], src_path: str | None, src_open: Any, size: int) -> None:
    """Copy the first ``size`` bytes of the previous archive: in the kernel where both are local
    files (no trip through Python), else streamed through a 1 MiB buffer."""
    raw.flush()
    done = 0
    if src_path and hasattr(os, "copy_file_range") and hasattr(raw, "fileno"):
        with open(src_path, "rb") as src:
            while done < size:
                n = os.copy_file_range(src.fileno(), raw.fileno(), size - done)
                if n == 0:
                    break
                done += n
        raw.seek(0, os.SEEK_END)  # resynchronise the buffered writer with the file position
    else:
        with src_open() as src:
            while done < size:
                block = src.read(min(COPY_BUFFER, size - done))
                if not block:
                    break
                raw.write(block)
                done += len(block)
    if done != size:
        raise OSError(f"the previous archive is shorter than its recorded image section ({done} < {size})")


class ArchiveTarget:
    """Where the archive is written: next to its final place on a file-system storage (then an
    atomic rename, no second copy), else a local temporary file handed to ``storage.save``."""

    def __init__(self, key: str) -> None:
        self.storage = private_storage()
        self.key = key
        try:
            self.final: str | None = self.storage.path(key)
        except NotImplementedError:
            self.final = None
        if self.final:
            os.makedirs(os.path.dirname(self.final), mode=0o700, exist_ok=True)
            self.tmp = f"{self.final}.part-{uuid.uuid4().hex}"
        else:
            tmp_dir = getattr(settings, "FILE_UPLOAD_TEMP_DIR", None) or None
            fd, self.tmp = tempfile.mkstemp(prefix="snapshot-", suffix=".tar", dir=tmp_dir)
            os.close(fd)
        self.fh: IO[bytes] = open(self.tmp, "wb", buffering=COPY_BUFFER)  # noqa: SIM115 - closed in commit/abort

    def commit(self) -> None:
        self.fh.close()
        if self.final:
            os.chmod(self.tmp, 0o600)
            os.replace(self.tmp, self.final)
        else:
            if self.storage.exists(self.key):
                self.storage.delete(self.key)  # an unpublished, interrupted build of the same snapshot
            with open(self.tmp, "rb") as f:
                saved = self.storage.save(self.key, File(f))
            os.unlink(self.tmp)
            if saved != self.key:
                raise RuntimeError(f"storage renamed {self.key} to {saved}")

    def abort(self) -> None:
        self.fh.close()
        if os.path.exists(self.tmp):
            os.unlink(self.tmp)


# --- metadata ------------------------------------------------------------------------------------

def _parquet_schema(schema: list[tuple[str, bool]]) -> Any:
    import pyarrow as pa

    fields = [pa.field("file_name", pa.string()), pa.field("split", pa.string()),
              pa.field("subject_id", pa.string())]
    for key, multiple in schema:
        fields.append(pa.field(key, pa.list_(pa.string()) if multiple else pa.string()))
    fields += [pa.field("low_light", pa.bool_()), pa.field("enhanced", pa.bool_()),
               pa.field("face_box", pa.list_(pa.float64())), pa.field("face_landmarks", pa.list_(pa.list_(pa.float64()))),
               pa.field("face_score", pa.float64()), pa.field("crop_112", pa.string()), pa.field("crop_224", pa.string()),
               pa.field("sha256", pa.string()), pa.field("width", pa.int32()), pa.field("height", pa.int32())]
    return pa.schema(fields)


def _norm(value: Any, multiple: bool) -> Any:
    if multiple:
        if value is None or value == "":
            return []
        return [str(v) for v in (value if isinstance(value, list) else [value])]
    if isinstance(value, list):
        return str(value[0]) if value else None
    return None if value is None or value == "" else str(value)


def metadata_row(*, r: dict[str, Any], files: dict[str, tuple[str, str]], subject_id: str, split: str,
                 schema: list[tuple[str, bool]]) -> dict[str, Any]:
    """One photo's metadata from a row of ``ROW_FIELDS`` (analysis fields None when absent)."""
    cats = {**(r["categories"] or {}), **(r["corrected_categories"] or {})}
    face = r.get("analysis__face") or {}
    box = face.get("box")
    landmarks = face.get("landmarks")
    lowlight = r.get("analysis__lowlight") or {}
    row: dict[str, Any] = {"file_name": f"{r['sha256']}.jpg", "split": split, "subject_id": subject_id}
    for key, multiple in schema:
        row[key] = _norm(cats.get(key), multiple)
    row.update({
        "low_light": bool(lowlight.get("is_low_light", False)),
        "enhanced": bool(r.get("analysis__enhanced")),
        "face_box": [float(v) for v in box] if box else None,
        "face_landmarks": [[float(x), float(y)] for x, y in landmarks] if landmarks else None,
        "face_score": float(face["score"]) if face.get("score") is not None else None,
        "crop_112": f"crops/112/{files['crop'][1]}.jpg" if "crop" in files else None,
        "crop_224": f"crops/224/{files['crop224'][1]}.jpg" if "crop224" in files else None,
        "sha256": r["sha256"], "width": int(r["width"]), "height": int(r["height"]),
    })
    return row


NO_FACE_BOX = [-1.0, -1.0, -1.0, -1.0]
NO_FACE_LANDMARKS = [[-1.0, -1.0]] * 5


def jsonl_row(row: dict[str, Any]) -> dict[str, Any]:
    """The row for a split's metadata.jsonl, with no JSON nulls.

    ``datasets`` infers each split's features from its metadata file and refuses splits whose
    features differ; a column that is null throughout one split (say, no face box in a small
    test split) would be typed ``null`` there. So missing values are typed sentinels: "" for
    text, [] for lists, -1 for the face box, landmarks and score (``has_face`` tells which).
    metadata.parquet keeps real nulls under an explicit schema.
    """
    out: dict[str, Any] = {}
    for key, value in row.items():
        if key == "split":
            continue
        out[key] = "" if value is None else value
    out["has_face"] = row.get("face_box") is not None
    if row.get("face_box") is None:
        out["face_box"] = NO_FACE_BOX
    if row.get("face_landmarks") is None:
        out["face_landmarks"] = NO_FACE_LANDMARKS
    if row.get("face_score") is None:
        out["face_score"] = -1.0
    return out


# --- the build -------------------------------------------------------------------------------------

class _Progress:
    def __init__(self, snapshot_id: int) -> None:
        self.snapshot_id = snapshot_id
        self.last = 0.0

    def __call__(self, phase: str, done: int, total: int, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last < PROGRESS_EVERY_S:
            return
        self.last = now
        Snapshot.objects.filter(pk=self.snapshot_id).update(phase=phase, progress_done=done, progress_total=total,
                                                            heartbeat_at=timezone.now())


def snapshot_claim(snapshot_id: int) -> Snapshot | None:
    """Take the build (idempotent task): pending or failed, or a build whose worker stopped
    beating. A published snapshot is never rebuilt."""
    now = timezone.now()
    stale = now - timedelta(seconds=setting("RELEASES_BUILD_STALE_SECONDS", 900))
    claimed = (Snapshot.objects.filter(pk=snapshot_id)
               .filter(Q(status__in=[SnapshotStatus.PENDING, SnapshotStatus.FAILED])
                       | Q(status=SnapshotStatus.BUILDING, heartbeat_at__lt=stale))
               .update(status=SnapshotStatus.BUILDING, started_at=now, heartbeat_at=now, phase="selecting", error="",
                       progress_done=0, progress_total=0))
    if not claimed:
        return None
    # Rows of an interrupted earlier run of this build: start clean (the build is deterministic).
    SnapshotEntry.objects.filter(snapshot_id=snapshot_id).delete()
    return Snapshot.objects.get(pk=snapshot_id)


def snapshot_build(*, snapshot_id: int) -> Snapshot | None:
    """Build and publish the snapshot; None when another run owns it or it is published."""
    snap = snapshot_claim(snapshot_id)
    if snap is None:
        return None
    target = None
    try:
        target = ArchiveTarget(f"releases/snapshots/{snap.version}/{snap.archive_name}")
        result = _build(snap, target)
        target.commit()
    except Exception as exc:
        if target is not None:
            target.abort()
        Snapshot.objects.filter(pk=snap.pk).update(status=SnapshotStatus.FAILED, phase="failed",
                                                   error=f"{type(exc).__name__}: {exc}"[:2000])
        logger.exception("snapshot %s failed", snap.version)
        raise
    return _publish(snap, target.key, *result)


ROW_FIELDS = ("id", "owner_id", "sha256", "categories", "corrected_categories", "width", "height", "byte_size",
              "created_at", "analysis__face", "analysis__enhanced", "analysis__lowlight")


def _files_for(ids: list[Any]) -> dict[Any, dict[str, tuple[str, str]]]:
    """contribution id -> variant -> (storage key, sha256), for the original and the crops."""
    out: dict[Any, dict[str, tuple[str, str]]] = defaultdict(dict)
    for cid, variant, key, sha in (ContributionFile.objects.filter(
            contribution_id__in=ids, variant__in=[FileVariant.ORIGINAL, FileVariant.CROP, FileVariant.CROP224])
            .values_list("contribution_id", "variant", "key", "sha256")):
        out[cid][variant] = (key, sha)
    return out


def _iter_rows(qs: QuerySet[Contribution]) -> Iterator[list[dict[str, Any]]]:
    """Keyset pagination by SHA-256: stable order, bounded memory, no OFFSET scans; plain dicts
    (no model instances: building 10,000 of them costs more than copying the photos)."""
    last = ""
    while True:
        chunk = list(qs.filter(sha256__gt=last).order_by("sha256").values(*ROW_FIELDS)[:CHUNK])
        if not chunk:
            return
        yield chunk
        last = chunk[-1]["sha256"]


def _extra_files(files: dict[str, tuple[str, str]]) -> list[str]:
    return [f"{folder}/{files[v][1]}.jpg" for v, folder in (("crop", "crops/112"), ("crop224", "crops/224"))
            if v in files]


def _reusable_previous(snap: Snapshot, qs: QuerySet[Contribution], owner_split: dict[int, str]) -> Snapshot | None:
    """The previous snapshot if its image section can start this archive unchanged: every photo
    of it still included, in the same split, with the same crops (one pass over its entries)."""
    prev = snap.previous
    if (prev is None or prev.status != SnapshotStatus.PUBLISHED or not prev.prefix_size
            or not prev.prefix_hash_state or not hashing.resumable()):
        return None
    storage = private_storage()
    if not prev.archive_key or not storage.exists(prev.archive_key):
        return None
    entries = SnapshotEntry.objects.filter(snapshot=prev)
    if entries.count() != entries.filter(contribution_id__in=qs.values("pk")).count():
        return None  # someone left (withdrawal, deletion, un-approval): rewrite everything
    last = -1
    while True:
        chunk = list(entries.filter(seq__gt=last).order_by("seq")
                     .values_list("seq", "contribution_id", "split", "extra_files")[:CHUNK * 4])
        if not chunk:
            return prev
        ids = [c[1] for c in chunk]
        owners = dict(Contribution.objects.filter(pk__in=ids).values_list("pk", "owner_id"))
        files = _files_for(ids)
        for _, cid, split, extra in chunk:
            if owner_split.get(owners.get(cid, 0)) != split or _extra_files(files.get(cid, {})) != list(extra):
                return None
        last = chunk[-1][0]


def _survivor_rows(prev: Snapshot, qs: QuerySet[Contribution]) -> Iterator[list[dict[str, Any]]]:
    """The previous snapshot's photos, in its archive order, as rows."""
    last = -1
    entries = SnapshotEntry.objects.filter(snapshot=prev)
    while True:
        chunk = list(entries.filter(seq__gt=last).order_by("seq").values_list("seq", "contribution_id")[:CHUNK])
        if not chunk:
            return
        rows = {r["id"]: r for r in qs.filter(pk__in=[c[1] for c in chunk]).values(*ROW_FIELDS)}
        yield [rows[cid] for _, cid in chunk]
        last = chunk[-1][0]


def _build(snap: Snapshot, target: ArchiveTarget) -> tuple[int, str, dict[str, Any]]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    progress = _Progress(snap.pk)
    storage = private_storage()
    schema = category_schema()
    qs = eligible_contributions(snap.cutoff_at)
    k = setting("STATS_MIN_COUNT", 5)

    # Pass 1: one record per person.
    per_owner: dict[int, list[Any]] = {}
    for owner_id, cats, corr in qs.values_list("owner_id", "categories", "corrected_categories").iterator(chunk_size=2000):
        rec = per_owner.setdefault(owner_id, [0, Counter()])
        rec[0] += 1
        rec[1][stratum_of({**(cats or {}), **(corr or {})})] += 1
    subjects = _subjects_for(per_owner)
    strata = [(subjects[o], rec[1].most_common(1)[0][0], rec[0]) for o, rec in per_owner.items()]
    fixed = _earlier_splits([s for s, _, _ in strata])
    splits = assign_splits(strata, seed=snap.version, fixed=fixed)
    owner_split = {o: splits[subjects[o]] for o in per_owner}
    total = sum(rec[0] for rec in per_owner.values())
    del per_owner, strata
    progress("checking", 0, total, force=True)

    prev = _reusable_previous(snap, qs, owner_split)
    mtime = int(snap.cutoff_at.timestamp())
    resume = None
    if prev is not None:
        try:
            prev_path: str | None = storage.path(prev.archive_key)
        except NotImplementedError:
            prev_path = None
        resume = (prev_path, lambda: storage.open(prev.archive_key, "rb"), prev.prefix_size,
                  bytes(prev.prefix_hash_state))
    progress("packing", 0, total, force=True)
    writer = ArchiveWriter(target.fh, mtime, resume_from=resume)
    pq_schema = _parquet_schema(schema)
    tmp_dir = getattr(settings, "FILE_UPLOAD_TEMP_DIR", None) or None
    jsonl = {s: tempfile.TemporaryFile("w+b", dir=tmp_dir) for s in SPLITS}  # noqa: SIM115 - closed below
    parquet_tmp = tempfile.TemporaryFile("w+b", dir=tmp_dir)  # noqa: SIM115
    pq_writer = pq.ParquetWriter(parquet_tmp, pq_schema, compression="zstd")
    stats = documents.Composition(schema=schema, k=k)
    state = {"done": 0, "seq": 0}

    def emit(chunk: list[dict[str, Any]], *, write: bool) -> None:
        """Metadata (and, when ``write``, the archive members) for a chunk of photos."""
        files = _files_for([r["id"] for r in chunk])
        rows, entries = [], []
        for r in chunk:
            cf = files.get(r["id"], {})
            if "original" not in cf:
                continue
            split = owner_split[r["owner_id"]]
            image_rel = f"{split}/{r['sha256']}.jpg"
            if write:
                member_mtime = int(r["created_at"].timestamp())
                try:
                    with storage.open(cf["original"][0], "rb") as fh:
                        writer.add_stream(image_rel, fh, fh.size, r["sha256"], member_mtime)
                except FileNotFoundError:  # deleted while we built (a withdrawal): leave it out
                    continue
                for variant, folder in (("crop", "crops/112"), ("crop224", "crops/224")):
                    if variant not in cf:
                        continue
                    key, sha = cf[variant]
                    try:
                        with storage.open(key, "rb") as fh:
                            writer.add_stream(f"{folder}/{sha}.jpg", fh, fh.size, sha, member_mtime)
                    except FileNotFoundError:
                        cf.pop(variant)
            else:
                writer.sums_line(r["sha256"], image_rel)
                for variant, folder in (("crop", "crops/112"), ("crop224", "crops/224")):
                    if variant in cf:
                        writer.sums_line(cf[variant][1], f"{folder}/{cf[variant][1]}.jpg")
            row = metadata_row(r=r, files=cf, subject_id=subjects[r["owner_id"]], split=split, schema=schema)
            jsonl[split].write((json.dumps(jsonl_row(row), ensure_ascii=False) + "\n").encode())
            row["file_name"] = image_rel
            rows.append(row)
            stats.add(row, split)
            state["seq"] += 1
            entries.append(SnapshotEntry(snapshot=snap, contribution_id=r["id"], subject_id=subjects[r["owner_id"]],
                                         split=split, seq=state["seq"], sha256=r["sha256"], file_name=image_rel,
                                         extra_files=_extra_files(cf), byte_size=r["byte_size"]))
        if rows:
            pq_writer.write_table(pa.Table.from_pylist(rows, schema=pq_schema))
        SnapshotEntry.objects.bulk_create(entries)
        state["done"] += len(chunk)
        progress("packing", state["done"], total)

    try:
        new_qs = qs
        if prev is not None:
            for chunk in _survivor_rows(prev, qs):
                emit(chunk, write=False)
            new_qs = qs.exclude(pk__in=SnapshotEntry.objects.filter(snapshot=prev).values("contribution_id"))
        for chunk in _iter_rows(new_qs):
            emit(chunk, write=True)
        prefix_size, prefix_state = writer.offset, writer.hash_state()
        pq_writer.close()
        progress("metadata", state["done"], total, force=True)
        for s in SPLITS:
            # An empty split gets no folder at all: `datasets` refuses a split with a
            # metadata file but no images, which small snapshots (few people) can have.
            if jsonl[s].tell() > 0:
                writer.add_file(f"{s}/metadata.jsonl", jsonl[s])
        parquet_sha = writer.add_file("metadata.parquet", parquet_tmp)
        counts = stats.counts()
        counts.update(_changelog_counts(snap))
        counts["reused_bytes"] = prev.prefix_size if prev is not None else 0
        context = documents.DocumentContext(snapshot=snap, counts=counts, composition=stats, schema=schema,
                                            parquet_sha256=parquet_sha, parquet_size=parquet_tmp.seek(0, 2))
        writer.add_bytes("croissant.json", documents.croissant(context).encode())
        writer.add_bytes("DATASHEET.md", documents.datasheet(context).encode())
        writer.add_bytes("LICENSE", documents.license_text(context).encode())
        with tempfile.TemporaryFile("w+b", dir=tmp_dir) as changelog:
            documents.changelog(context, changelog)
            writer.add_file("CHANGELOG.md", changelog)
        counts["files"] = writer.sum_lines + 1  # every file is in SHA256SUMS, and SHA256SUMS itself
        size, sha = writer.close()
    except BaseException:
        writer.abort()
        raise
    finally:
        for f in (*jsonl.values(), parquet_tmp):
            f.close()
    Snapshot.objects.filter(pk=snap.pk).update(prefix_size=prefix_size, prefix_hash_state=prefix_state)
    return size, sha, counts


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


def _publish(snap: Snapshot, key: str, size: int, sha: str, counts: dict[str, Any]) -> Snapshot:
    from facecommons.releases.services import withdrawal_record

    def publish() -> Snapshot:
        s = Snapshot.objects.select_for_update().get(pk=snap.pk)
        s.status, s.phase, s.published_at = SnapshotStatus.PUBLISHED, "published", timezone.now()
        s.archive_key, s.archive_size, s.archive_sha256, s.counts = key, size, sha, counts
        s.progress_done = s.progress_total = counts.get("photos", 0)
        s.heartbeat_at = timezone.now()
        s.save(update_fields=["status", "phase", "published_at", "archive_key", "archive_size", "archive_sha256",
                              "counts", "progress_done", "progress_total", "heartbeat_at"])
        audit_record(actor=None, action="snapshot_published", obj=s,
                     after={"version": s.version, "sha256": sha, "size": size, "photos": counts.get("photos", 0)})
        # Photos withdrawn or deleted while we built: record them against this snapshot at once.
        gone = (SnapshotEntry.objects.filter(snapshot=s)
                .exclude(contribution_id__in=Contribution.objects.filter(status=ContributionStatus.APPROVED)
                         .values("pk"))
                .values_list("contribution_id", flat=True))
        gone_ids = list(gone)
        if gone_ids:
            withdrawal_record(contribution_ids=gone_ids, reason="withdrawn", snapshots=[s.pk])
        return s

    with transaction.atomic():
        return publish()

