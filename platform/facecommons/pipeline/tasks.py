"""Celery tasks of the pipeline. They take ids, are idempotent, and acknowledge late.

``process_contribution`` runs on the ``ingest`` queue (routed by module in
``common.queues``); ``reconcile_stuck`` is housekeeping routed to ``default``, scheduled every
minute by django-celery-beat (data migration ``0003_reconcile_schedule``).
"""

from __future__ import annotations

import logging

from celery import shared_task
from celery.signals import worker_process_init

from facecommons.common.conf import setting
from facecommons.pipeline.services import (
    TRANSIENT_ERRORS,
    ClaimBusy,
    pipeline_detector,
    pipeline_process,
    pipeline_reconcile,
)

logger = logging.getLogger(__name__)

# A 12 MP photo takes well under a second; the limits only stop a run that hangs. The hard
# limit stays below PIPELINE_LEASE_SECONDS (180 s) so a live run never loses its claim.
SOFT_TIME_LIMIT = int(setting("PIPELINE_SOFT_TIME_LIMIT", 90))
HARD_TIME_LIMIT = int(setting("PIPELINE_TIME_LIMIT", 120))


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


@shared_task(acks_late=True, soft_time_limit=50, time_limit=60, expires=55)
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
