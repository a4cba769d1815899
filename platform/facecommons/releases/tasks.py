"""Snapshot builds (releases queue: routed by module in ``common.queues``)."""

from __future__ import annotations

from celery import shared_task
from django.core.cache import cache
from django.db import OperationalError

from facecommons.common.tunables import tunables
from facecommons.releases.build import snapshot_build
from facecommons.releases.services import ReleaseError, snapshot_request
from facecommons.releases.state import build_lease_seconds, snapshot_stalled
from facecommons.releases.withdrawals import removal_reminders_send


@shared_task(acks_late=True, reject_on_worker_lost=True, autoretry_for=(OperationalError,), max_retries=2,
             retry_backoff=30, time_limit=tunables.CELERY_LONGEST_TASK_SECONDS,
             soft_time_limit=tunables.CELERY_LONGEST_TASK_SECONDS - 60)
def snapshot_build_task(snapshot_id: int) -> str | None:
    """Build one snapshot. Idempotent: a published snapshot, or one another live worker is
    building (fresh heartbeat), is left alone."""
    snap = snapshot_build(snapshot_id=snapshot_id)
    return snap.version if snap else None


@shared_task(ignore_result=True, expires=9)
def snapshot_resume_task() -> list[int]:
    """Every 10 s (beat, on the default queue): re-enqueue a build whose worker died (building,
    no heartbeat for ``RELEASES_BUILD_STALE_SECONDS``) or whose message was lost (pending for
    a minute). Each lapsed build is sent again at most once per lease length."""
    lease = build_lease_seconds()
    # Keyed by the lapsed beat, so a new claim of the same snapshot is a new key.
    keys = {pk: f"releases:requeued:{pk}:{beat.isoformat()}" for pk, beat in snapshot_stalled(lease_seconds=lease)}
    recent = cache.get_many(list(keys.values()))
    ids = [pk for pk, key in keys.items() if key not in recent]
    for pk in ids:
        snapshot_build_task.delay(pk)
    cache.set_many({keys[pk]: 1 for pk in ids}, timeout=max(30, lease))
    return ids


@shared_task(acks_late=True, reject_on_worker_lost=True, expires=3600)
def snapshot_scheduled_task() -> str | None:
    """The scheduled build (django-celery-beat; created disabled by a data migration)."""
    try:
        snap = snapshot_request(actor=None, note="scheduled build")
    except ReleaseError:  # a build is already running: the next schedule will catch up
        return None
    return snap.version


@shared_task(acks_late=True, reject_on_worker_lost=True, expires=3600)
def removal_reminders_task() -> int:
    """Daily: remind researchers who have not acknowledged a removal manifest (at most weekly each)."""
    return removal_reminders_send()
