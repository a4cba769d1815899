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
from collections import Counter, defaultdict
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Max
from django.utils import timezone

from facecommons.common.db import atomic_write, bulk_insert
from facecommons.common.leases import Heartbeat, LeaseLost
from facecommons.common.tunables import tunables
from facecommons.releases import state
from facecommons.releases.archive import selection, splits
from facecommons.releases.archive.documents import DocumentContext, bump
from facecommons.releases.archive.store import BlobStore
from facecommons.releases.archive.writer import Base, VersionWriter
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


STATE_FORMAT = 1  # of ``Snapshot.build_state``; a previous version in another format is rebuilt from nothing


def _base(snap: Snapshot, schema: list[tuple[str, bool]]) -> Snapshot | None:
    """The published version this one can start from: the previous one, if it has a manifest and
    build state for the same taxonomy. Else None: built from nothing."""
    prev = snap.previous
    if prev is None or prev.status != SnapshotStatus.PUBLISHED or not prev.manifest_sha256 or prev.started_at is None:
        return None
    state_ = prev.build_state or {}
    if state_.get("format") != STATE_FORMAT or state_.get("schema") != [list(c) for c in schema]:
        return None
    return prev


def _build(snap: Snapshot, *, heartbeat: Heartbeat | None = None, from_nothing: bool = False) -> dict[str, Any]:
    """Write the version's files and entries; returns the fields to publish.

    From nothing: every eligible photo is selected, split and written. From the previous
    version (``_base``): the database works out which photos are new or changed and which left
    (``selection.changed_since``); only those are read and written, the previous version's
    entries are copied in one statement, and its metadata files and manifest are merged with
    the new rows (``VersionWriter`` with a ``Base``). The result is the same either way
    (``from_nothing`` forces the first way: the tests compare them).
    """
    progress = _Progress(snap.pk, heartbeat)
    schema = selection.category_schema()
    qs = selection.eligible_contributions(snap.cutoff_at)
    prev = None if from_nothing else _base(snap, schema)
    strata: dict[str, Counter[str]] = defaultdict(Counter)
    base: Base | None = None
    seq = 0
    dropped: list[dict[str, Any]] = []
    added: list[tuple[str, str, str]] = []  # with a base: (sha256, subject id, file name) of what was written
    if prev is None:
        todo = qs
        people, total = selection.people(qs, seed=snap.version)
    else:
        assert prev.started_at is not None
        todo, dropped = selection.changed_since(qs, previous_id=prev.pk, since=prev.started_at)
        for stratum, per_split in prev.build_state["strata"].items():
            strata[stratum].update(per_split)
        for e in dropped:
            bump(strata[splits.stratum_of(e["attributes"])], e["split"], -1)
        base = Base(documents=prev.documents, manifest_sha256=prev.manifest_sha256,
                    composition=prev.build_state["composition"], dropped_shas={e["sha256"] for e in dropped},
                    dropped_paths={p for e in dropped for p in (e["file_name"], *e["extra_files"])})
        people, total = selection.people(todo, seed=snap.version, prior=strata)
        seq = _carry_entries(snap.pk, prev.pk, [e["contribution_id"] for e in dropped])
    progress("storing", 0, total, force=True)

    tmp_dir = getattr(settings, "FILE_UPLOAD_TEMP_DIR", None) or None
    with VersionWriter(store=BlobStore(), schema=schema, k=tunables.STATS_MIN_COUNT, tmp_dir=tmp_dir,
                       base=base) as writer:
        done = 0
        for chunk in selection.iter_rows(todo):
            placed = writer.add_photos(chunk, selection.files_for([r["id"] for r in chunk]), people)
            entries = []
            for p in placed:
                seq += 1
                entries.append((snap.pk, p.contribution_id, p.subject_id, p.split, seq, p.sha256, p.file_name,
                                p.extra_files, p.byte_size, p.attributes))
                bump(strata[p.stratum], p.split, 1)
                if base is not None:
                    added.append((p.sha256, p.subject_id, p.file_name))
            bulk_insert(SnapshotEntry, ENTRY_COLUMNS, entries)
            done += len(chunk)
            progress("storing", done, total)
        progress("documents", done, total, force=True)
        parquet_sha256, parquet_size = writer.store_metadata()

        counts = writer.composition.counts(people=selection.people_per_split(snap.pk),
                                           collected=selection.collected_between(qs))
        counts["previous"] = snap.previous.version if snap.previous else None
        if prev is None:
            counts.update(selection.changes_against(snapshot_id=snap.pk, previous_id=snap.previous_id))
            sections = selection.changelog_sections(snapshot_id=snap.pk, previous_id=snap.previous_id)
        else:
            changes, sections = selection.changes_from_delta(snapshot_id=snap.pk, previous_id=prev.pk,
                                                             added=added, dropped=dropped)
            counts.update(changes)
        ctx = DocumentContext(
            version=snap.version, cutoff_at=snap.cutoff_at, previous=counts["previous"],
            purge_of=snap.purge_of.version if snap.purge_of else None,
            counts=counts, composition=writer.composition, schema=schema,
            parquet_sha256=parquet_sha256, parquet_size=parquet_size, evaluation_findings=evaluation_findings())
        writer.store_documents(ctx, sections)
        fields = writer.seal(counts)
        fields["build_state"] = {"format": STATE_FORMAT, "schema": [list(c) for c in schema],
                                 "composition": writer.composition.state(),
                                 "strata": {k: dict(v) for k, v in sorted(strata.items()) if v}}
    photos = counts.get("photos", 0)
    return {**fields, "phase": "published", "progress_done": photos, "progress_total": photos}


ENTRY_COLUMNS = ("snapshot_id", "contribution_id", "subject_id", "split", "seq", "sha256", "file_name", "extra_files",
                 "byte_size", "attributes")


def _carry_entries(snapshot_id: int, previous_id: int, dropped: list[Any]) -> int:
    """Copy the previous version's entries, less ``dropped`` (contribution ids), into this one,
    in the database (one INSERT ... SELECT); returns the highest ``seq`` copied."""
    table = SnapshotEntry._meta.db_table
    qn = connection.ops.quote_name
    column = {f.attname: str(f.column) for f in SnapshotEntry._meta.concrete_fields}
    cols = [column[c] for c in ENTRY_COLUMNS]
    rest = ", ".join(qn(c) for c in cols[1:])
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {qn(table)} ({qn(cols[0])}, {rest}) "  # noqa: S608 - names from the model
                       f"SELECT %s, {rest} FROM {qn(table)} WHERE {qn(cols[0])} = %s", [snapshot_id, previous_id])
    for i in range(0, len(dropped), 900):
        SnapshotEntry.objects.filter(snapshot_id=snapshot_id, contribution_id__in=dropped[i:i + 900]).delete()
    return SnapshotEntry.objects.filter(snapshot_id=snapshot_id).aggregate(m=Max("seq"))["m"] or 0


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
