"""The one way a snapshot changes state, with its audit record.

pending -> building -> published, and building -> failed -> building (a retry). A building
snapshot whose worker stopped beating for ``RELEASES_BUILD_STALE_SECONDS`` may be taken over
(building -> building). Every transition, failures included, writes one audit event in the same
transaction as the change. "One build at a time" is the ``one_active_snapshot_build``
constraint: the database refuses a second pending or building snapshot.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.db.models import Q
from django.utils import timezone

from facecommons.common.audit import audit_record
from facecommons.common.db import atomic_write
from facecommons.common.leases import lease_expired_q
from facecommons.common.tunables import tunables
from facecommons.releases.events import snapshot_published
from facecommons.releases.models import Snapshot, SnapshotStatus

S = SnapshotStatus
ALLOWED: dict[str, set[str]] = {
    S.PENDING: {S.BUILDING, S.FAILED},
    S.BUILDING: {S.BUILDING, S.PUBLISHED, S.FAILED},
    S.FAILED: {S.BUILDING},
    S.PUBLISHED: set(),
}
# What the audit record keeps of the fields a transition writes.
_AUDITED = ("phase", "error", "archive_size", "manifest_sha256", "manifest_files", "manifest_bytes")


class TransitionRefused(Exception):
    """The snapshot is not in a state that may go where it was asked to."""


def snapshot_transition(*, snapshot_id: int, to: str, actor: Any | None = None,
                        when: Callable[[Snapshot], bool] | None = None, fields: dict[str, Any] | None = None,
                        after: dict[str, Any] | None = None) -> Snapshot:
    """Move the snapshot to ``to`` (locking its row), write ``fields`` and the audit event.

    ``when`` is an extra condition on the locked row (a stale heartbeat, for example). Raises
    TransitionRefused when the move is not allowed from the current state or ``when`` says no.
    """
    fields = dict(fields or {})

    def move() -> Snapshot:
        snap = Snapshot.objects.select_for_update().get(pk=snapshot_id)
        before = snap.status
        if to not in ALLOWED[before] or (when is not None and not when(snap)):
            raise TransitionRefused(f"snapshot {snap.version}: {before} -> {to} refused")
        snap.status = to
        now = timezone.now()
        fields.setdefault("heartbeat_at", now)
        if to == S.PUBLISHED:
            fields.setdefault("published_at", now)
        for name, value in fields.items():
            setattr(snap, name, value)
        snap.save(update_fields=["status", *fields])
        record = {"version": snap.version, "status": to, **{k: fields[k] for k in _AUDITED if k in fields}}
        audit_record(actor=actor, action=f"snapshot_{to}", obj=snap, before={"status": before},
                     after={**record, **(after or {})})
        if to == S.PUBLISHED:
            snapshot_published.emit(snapshot_id=snap.pk, version=snap.version)
        return snap

    return atomic_write(move)


def build_lease_seconds() -> int:
    # The build's heartbeat (``build.snapshot_build``) beats every third of it, so a killed
    # worker's build is taken over this long after its last beat.
    return tunables.RELEASES_BUILD_STALE_SECONDS


def snapshot_claim(snapshot_id: int) -> Snapshot | None:
    """Take the build: pending or failed, or building with a stale heartbeat. None when another
    live worker has it or it is published (the task is idempotent)."""
    stale = timezone.now() - timedelta(seconds=build_lease_seconds())

    def claimable(snap: Snapshot) -> bool:
        return snap.status != S.BUILDING or snap.heartbeat_at is None or snap.heartbeat_at < stale

    try:
        return snapshot_transition(
            snapshot_id=snapshot_id, to=S.BUILDING, when=claimable,
            fields={"started_at": timezone.now(), "phase": "selecting", "error": "", "progress_done": 0,
                    "progress_total": 0})
    except (TransitionRefused, Snapshot.DoesNotExist):
        return None


def snapshot_stalled(*, lease_seconds: int) -> list[tuple[int, Any]]:
    """(id, last beat) of the builds to enqueue again: building with no heartbeat for
    ``lease_seconds`` (the worker died), or pending for a minute (the message was lost)."""
    now = timezone.now()
    building = Q(status=S.BUILDING) & lease_expired_q(field="heartbeat_at", now=now - timedelta(seconds=lease_seconds))
    pending = Q(status=S.PENDING, created_at__lte=now - timedelta(seconds=60))
    return [(pk, beat or created) for pk, beat, created in
            Snapshot.objects.filter(building | pending).values_list("pk", "heartbeat_at", "created_at")]


def snapshot_fail(*, snapshot_id: int, error: str, started_at: Any | None = None) -> Snapshot | None:
    """Record the build as failed; with ``started_at`` (the claim's fence) only if that claim is
    still the snapshot's, so a build that was taken over never fails its successor's."""
    try:
        return snapshot_transition(snapshot_id=snapshot_id, to=S.FAILED, fields={"phase": "failed",
                                                                                 "error": error[:2000]},
                                   when=None if started_at is None else (lambda snap: snap.started_at == started_at))
    except TransitionRefused:
        return None


def snapshot_progress_report(*, snapshot_id: int, phase: str, done: int, total: int) -> None:
    """Progress and heartbeat (not a transition: no audit record, written every second)."""
    Snapshot.objects.filter(pk=snapshot_id, status=S.BUILDING).update(
        phase=phase, progress_done=done, progress_total=total, heartbeat_at=timezone.now())
