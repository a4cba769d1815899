"""Celery tasks of the workbench, on the ``evaluation`` queue (CPU-heavy, like evaluations).

A run is claimed with a lease that its progress renews. A worker that dies mid-training leaves
the run ``running`` with a lease that runs out; the message is redelivered (``acks_late`` +
``reject_on_worker_lost``) and ``workbench_resume`` re-enqueues it in case the message itself
was lost. Either way the next worker resumes from the run's last checkpoint (one per epoch).
"""

from __future__ import annotations

import logging

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.db import transaction

from facecommons.workbench import services

logger = logging.getLogger(__name__)


def enqueue_training(run_id: int) -> None:
    """Enqueue the run after the current transaction commits, with the configured time limits."""
    limit = services.time_limit_seconds()
    transaction.on_commit(lambda: workbench_train.apply_async((run_id,), soft_time_limit=limit,
                                                              time_limit=limit + 120))


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def workbench_train(run_id: int) -> None:
    # The web process imports this module to enqueue (and task_send's autodiscovery imports every
    # tasks module there): only the worker that trains loads the training code and PyTorch.
    from facecommons.workbench import training  # lazy: PyTorch (~1 s, hundreds of MB) only where a run trains

    if not services.training_run_claim(run_id=run_id):
        return  # finished, cancelled, or another worker holds the lease
    try:
        training.training_run_execute(run_id=run_id)
    except SoftTimeLimitExceeded:
        services.training_run_fail(run_id=run_id, error=f"stopped at the time limit "
                                   f"(WORKBENCH_TIME_LIMIT_SECONDS = {services.time_limit_seconds()})")
    except Exception as exc:
        logger.exception("training run %s failed", run_id)
        services.training_run_fail(run_id=run_id, error=repr(exc))
        raise


@shared_task(ignore_result=True, expires=540)
def workbench_resume() -> None:
    """Re-enqueue runs whose worker died (lease expired) and queued runs whose message was lost."""
    limit = services.time_limit_seconds()
    for run_id in services.stalled_runs():
        workbench_train.apply_async((run_id,), soft_time_limit=limit, time_limit=limit + 120)
