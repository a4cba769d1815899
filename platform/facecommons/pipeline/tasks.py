"""Celery tasks of the pipeline. They take ids, are idempotent, and acknowledge late.

``process_contribution`` runs on the ``ingest`` queue (routed by module in
``common.queues``); ``reconcile_stuck`` is housekeeping routed to ``default``, scheduled every
minute by django-celery-beat (data migration ``0003_reconcile_schedule``).
"""

from __future__ import annotations

import logging

from celery import shared_task
from celery.signals import worker_process_init

from facecommons.common.tunables import tunables
from facecommons.pipeline.services import (
    TRANSIENT_ERRORS,
    ClaimBusy,
    pipeline_detector,
    pipeline_process,
    pipeline_reconcile,
)

logger = logging.getLogger(__name__)

# A photo takes 75 ms CPU (median; 300 ms for the slowest, docs/benchmarks.md), so the limits
# only stop a run that hangs, with ~60x room for a loaded machine. The hard limit stays below
# PIPELINE_LEASE_SECONDS (30 s) so a live run never loses its claim, and the lease is short so
# that a photo whose worker was killed is claimed again within a minute (issue 14).
SOFT_TIME_LIMIT = tunables.PIPELINE_SOFT_TIME_LIMIT
HARD_TIME_LIMIT = tunables.PIPELINE_TIME_LIMIT


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    # Only errors that a later try can cure: the database or a network service briefly away.
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=2,
    retry_backoff_max=60,
    retry_jitter=True,
    max_retries=6,
    soft_time_limit=SOFT_TIME_LIMIT,
    time_limit=HARD_TIME_LIMIT,
)
def process_contribution(self, contribution_id: str) -> str:  # type: ignore[no-untyped-def]
    try:
        outcome = pipeline_process(contribution_id=str(contribution_id))
    except ClaimBusy as busy:
        # A duplicate message while another run works: that run (or, if it dies, the
        # reconciler once its lease expires) finishes the job.
        logger.info("%s", busy)
        return "busy"
    logger.info("contribution %s: %s", contribution_id, outcome)
    return outcome


# Beat sends it every 10 s (migration 0006); a run that could not start
# before the next one is due is dropped.
@shared_task(acks_late=True, soft_time_limit=8, time_limit=9, expires=9)
def reconcile_stuck() -> int:
    """Re-enqueue contributions stuck in received/processing (lost messages, killed workers)."""
    return len(pipeline_reconcile())


@worker_process_init.connect
def _load_models(**kwargs: object) -> None:
    """Load the detector in each worker child as it starts, so the first photo is as fast as the rest."""
    try:
        pipeline_detector()
    except Exception:  # noqa: BLE001 - the task reports a detector that cannot load
        logger.exception("could not load the pipeline detector at worker start")
