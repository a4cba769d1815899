"""Celery tasks of the evaluation (routed to the ``evaluation`` queue by module).

Fan-out without a result backend: the run's chunks are rows; each chunk task claims its
chunk with a lease, computes, marks it done, and the task that finds no chunk left pending
moves the run to ``finalising`` (a conditional update, so exactly one does) and enqueues the
metrics. A worker that dies mid-chunk leaves the chunk pending: the message is redelivered
(``acks_late`` + ``reject_on_worker_lost``), and ``evaluation_resume`` re-enqueues chunks
whose lease ran out in case the message itself was lost.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from django.core.cache import cache
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from facecommons.common.leases import LeaseLost, lease_expired_q, lease_release
from facecommons.evaluation import services
from facecommons.evaluation.gatekeeper import gatekeeper_audit_run
from facecommons.evaluation.models import ChunkStatus, EvaluationChunk, EvaluationRun, RunScope, RunStatus

logger = logging.getLogger(__name__)

COMMON = {"acks_late": True, "reject_on_worker_lost": True, "ignore_result": True}


def enqueue_run(run_id: int) -> None:
    """Enqueue every pending chunk of the run, after the current transaction commits."""
    ids = list(EvaluationChunk.objects.filter(run_id=run_id, status=ChunkStatus.PENDING).values_list("pk", flat=True))
    transaction.on_commit(lambda: [evaluation_chunk.delay(cid) for cid in ids])


@shared_task(**COMMON, soft_time_limit=1800, time_limit=1900, autoretry_for=(ConnectionError,), max_retries=3)
def evaluation_chunk(chunk_id: int) -> None:
    lease = services.chunk_claim(chunk_id=chunk_id)
    if lease is None:
        return  # done already, or another worker holds the lease
    chunk = EvaluationChunk.objects.only("run_id").get(pk=chunk_id)
    try:
        with services.chunk_heartbeat(lease) as heartbeat:
            services.chunk_process(chunk_id=chunk_id, on_item=heartbeat.check)
    except LeaseLost:
        logger.warning("evaluation chunk %s: taken over by another worker; stopped", chunk_id)
        return
    except Exception as exc:
        logger.exception("evaluation chunk %s failed", chunk_id)
        # Release the lease so a retry (or evaluation_resume) can pick it up again soon.
        lease_release(lease)
        if lease.attempt >= 3:
            services.run_fail(run_id=chunk.run_id, error=f"chunk {chunk_id}: {exc!r}")
        raise
    if services.run_try_begin_finalise(run_id=chunk.run_id):
        transaction.on_commit(lambda: evaluation_finalise.delay(chunk.run_id))


@shared_task(**COMMON, soft_time_limit=3000, time_limit=3200)
def evaluation_finalise(run_id: int) -> None:
    try:
        services.run_finalise(run_id=run_id)
    except Exception as exc:
        logger.exception("evaluation %s: metrics failed", run_id)
        services.run_fail(run_id=run_id, error=f"metrics: {exc!r}")
        raise


@shared_task(**COMMON)
def evaluation_start(scope: str = RunScope.CURRENT, snapshot_version: str = "", source_name: str = "",
                     models: list[str] | None = None, trigger: str = "schedule") -> int | None:
    try:
        run = services.evaluation_run_start(scope=scope, snapshot_version=snapshot_version, source_name=source_name,
                                            models=models, trigger=trigger)
    except services.RunAlreadyActive as exc:
        logger.info("evaluation not started: %s", exc)
        return None
    except services.EvaluationError as exc:
        logger.warning("evaluation not started: %s", exc)
        return None
    enqueue_run(run.pk)
    return run.pk


@shared_task(**COMMON, expires=3600)
def evaluation_nightly() -> None:
    """The scheduled run: the current approved set, and the newest published snapshot when it
    has no finished evaluation yet (covers a snapshot published while no hook could fire)."""
    evaluation_start.delay(RunScope.CURRENT, trigger="schedule")
    version = services.latest_published_snapshot_version()
    if version and not EvaluationRun.objects.filter(scope_key=f"snapshot:{version}", status=RunStatus.DONE).exists():
        evaluation_start.delay(RunScope.SNAPSHOT, snapshot_version=version, trigger="schedule")


@shared_task(**COMMON, expires=540)
def evaluation_resume() -> None:
    """Re-enqueue the chunks of running runs whose lease ran out (a dead worker, a lost message)
    and the metrics of runs stuck in ``finalising``. Runs every 10 s (beat): a chunk is sent
    again at most once per lease length, so a chunk whose message waits in a long queue is not
    sent again and again; one never claimed is sent again only after ten minutes."""
    now = timezone.now()
    stale = EvaluationChunk.objects.filter(
        Q(lease_expires_at__isnull=False) & lease_expired_q(now=now)
        | Q(lease_expires_at__isnull=True, run__started_at__lt=now - timedelta(minutes=10)),
        status=ChunkStatus.PENDING, run__status=RunStatus.RUNNING)
    # Keyed by the lapsed claim (its expiry), so the key of another chunk or claim never matches.
    keys = {cid: f"evaluation:requeued:{cid}:{(expiry or started or now).isoformat()}"
            for cid, expiry, started in stale.values_list("pk", "lease_expires_at", "run__started_at")[:1000]}
    recent = cache.get_many(list(keys.values()))
    ids = [cid for cid, key in keys.items() if key not in recent]
    for cid in ids:
        evaluation_chunk.delay(cid)
    cache.set_many({keys[cid]: 1 for cid in ids}, timeout=max(30, services.chunk_lease_seconds()))
    for run in EvaluationRun.objects.filter(status=RunStatus.RUNNING, chunks_total__gt=0):
        if services.run_try_begin_finalise(run_id=run.pk):
            evaluation_finalise.delay(run.pk)
    stuck = EvaluationRun.objects.filter(status=RunStatus.FINALISING, started_at__lt=now - timedelta(hours=1))
    for run_id in stuck.values_list("pk", flat=True):
        evaluation_finalise.delay(run_id)


@shared_task(**COMMON, expires=3000)
def gatekeeper_audit() -> None:
    """Recompute the gatekeeper audit (hourly, beat); pages recompute a stale one as well."""
    gatekeeper_audit_run()
