"""Building a snapshot version: claim it, select and split (``archive.selection``), write the
files (``archive.writer``), record the entries, publish (``state``).

This module puts the pieces together and records what the writer placed; the archive package
knows nothing of snapshot state, and ``state`` is the only writer of the status.

Memory: photos are read ``CHUNK`` at a time (``selection.iter_rows``); the writer spools the
metadata files and the manifest to disk; what stays in memory is one small record per person
and the category counters.

Determinism: splits are a pure function of (version, people, earlier splits); documents and the
manifest depend only on the selection, so a rebuild of the same snapshot gives the same manifest.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.conf import settings
from django.utils import timezone

from facecommons.common.db import atomic_write
from facecommons.common.leases import Heartbeat, LeaseLost
from facecommons.common.tunables import tunables
from facecommons.releases import state
from facecommons.releases.archive import selection
from facecommons.releases.archive.documents import DocumentContext
from facecommons.releases.archive.store import BlobStore
from facecommons.releases.archive.writer import VersionWriter
from facecommons.releases.models import Snapshot, SnapshotEntry, SnapshotStatus
from facecommons.releases.selectors import evaluation_findings
from facecommons.releases.withdrawals import withdrawal_record_gone

logger = logging.getLogger(__name__)

PROGRESS_EVERY_S = 1.0


class _Progress:
    def __init__(self, snapshot_id: int, heartbeat: Heartbeat | None = None) -> None:
        self.snapshot_id = snapshot_id
        self.heartbeat = heartbeat
        self.last = 0.0

    def __call__(self, phase: str, done: int, total: int, *, force: bool = False) -> None:
        if self.heartbeat is not None:
            self.heartbeat.check()
        now = time.monotonic()
        if force or now - self.last >= PROGRESS_EVERY_S:
            self.last = now
            state.snapshot_progress_report(snapshot_id=self.snapshot_id, phase=phase, done=done, total=total)


def snapshot_build(*, snapshot_id: int) -> Snapshot | None:
    """Build and publish the snapshot; None when another run owns it or it is published.

    A failure anywhere after the claim, publication included, is recorded (status failed, the
    error, an audit event) and re-raised: a snapshot never stays building because its build
    raised, which would hold the one active build.
    """
    snap = state.snapshot_claim(snapshot_id)
    if snap is None:
        return None
    try:
        # Rows of an interrupted earlier run of this build: start clean (the build is deterministic).
        SnapshotEntry.objects.filter(snapshot_id=snapshot_id).delete()
        with _heartbeat(snap) as heartbeat:
            fields = _build(snap, heartbeat=heartbeat)
        return _publish(snap, fields)
    except LeaseLost:
        logger.warning("snapshot %s: taken over by another worker; stopped", snap.version)
        return None
    except Exception as exc:
        state.snapshot_fail(snapshot_id=snap.pk, error=f"{type(exc).__name__}: {exc}", started_at=snap.started_at)
        logger.exception("snapshot %s failed", snap.version)
        raise


def _heartbeat(snap: Snapshot) -> Heartbeat:
    """Beats every third of the build's lease while it runs, fenced by the claim's start time:
    a build that was taken over stops at its next progress report."""

    def renew() -> bool:
        return Snapshot.objects.filter(pk=snap.pk, status=SnapshotStatus.BUILDING, started_at=snap.started_at).update(
            heartbeat_at=timezone.now()) == 1

    return Heartbeat(renew, every=state.build_lease_seconds() / 3, name=f"snapshot {snap.version}")


def _build(snap: Snapshot, *, heartbeat: Heartbeat | None = None) -> dict[str, Any]:
    """Write the version's files and entries; returns the fields to publish."""
    progress = _Progress(snap.pk, heartbeat)
    schema = selection.category_schema()
    qs = selection.eligible_contributions(snap.cutoff_at)
    people, total = selection.people(qs, seed=snap.version)
    progress("storing", 0, total, force=True)

    tmp_dir = getattr(settings, "FILE_UPLOAD_TEMP_DIR", None) or None
    with VersionWriter(store=BlobStore(), schema=schema, k=tunables.STATS_MIN_COUNT, tmp_dir=tmp_dir) as writer:
        done = seq = 0
        for chunk in selection.iter_rows(qs):
            placed = writer.add_photos(chunk, selection.files_for([r["id"] for r in chunk]), people)
            entries = []
            for p in placed:
                seq += 1
                entries.append(SnapshotEntry(
                    snapshot=snap, contribution_id=p.contribution_id, subject_id=p.subject_id, split=p.split, seq=seq,
                    sha256=p.sha256, file_name=p.file_name, extra_files=p.extra_files, byte_size=p.byte_size,
                    attributes=p.attributes))
            SnapshotEntry.objects.bulk_create(entries)
            done += len(chunk)
            progress("storing", done, total)
        progress("documents", done, total, force=True)
        parquet_sha256, parquet_size = writer.store_metadata()

        counts = writer.composition.counts()
        counts["previous"] = snap.previous.version if snap.previous else None
        counts.update(selection.changes_against(snapshot_id=snap.pk, previous_id=snap.previous_id))
        ctx = DocumentContext(
            version=snap.version, cutoff_at=snap.cutoff_at, previous=counts["previous"],
            purge_of=snap.purge_of.version if snap.purge_of else None,
            counts=counts, composition=writer.composition, schema=schema,
            parquet_sha256=parquet_sha256, parquet_size=parquet_size, evaluation_findings=evaluation_findings())
        writer.store_documents(ctx, selection.changelog_sections(snapshot_id=snap.pk, previous_id=snap.previous_id))
        fields = writer.seal(counts)
    photos = counts.get("photos", 0)
    return {**fields, "phase": "published", "progress_done": photos, "progress_total": photos}


def _publish(snap: Snapshot, fields: dict[str, Any]) -> Snapshot:
    """Publish if this build's claim (its ``started_at``) is still the snapshot's; raises
    ``LeaseLost`` when another worker took the build over meanwhile."""

    def publish() -> Snapshot:
        s = state.snapshot_transition(snapshot_id=snap.pk, to=SnapshotStatus.PUBLISHED, fields=fields,
                                      when=lambda row: row.started_at == snap.started_at,
                                      after={"photos": fields["counts"].get("photos", 0),
                                             "stored_bytes": fields["counts"].get("stored_bytes", 0)})
        # Photos withdrawn or deleted while we built: record them against this snapshot at once.
        withdrawal_record_gone(snapshot=s)
        return s

    try:
        return atomic_write(publish)
    except state.TransitionRefused:
        if not Snapshot.objects.filter(pk=snap.pk, started_at=snap.started_at).exists():
            raise LeaseLost(f"snapshot {snap.version}") from None
        raise
