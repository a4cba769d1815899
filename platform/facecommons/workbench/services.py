"""Workbench services: starting, claiming, ending, cancelling and registering training runs.
The Celery tasks, API and pages are thin wrappers around these; the training itself is in
``training`` (worker side: it loads PyTorch, which this module must not)."""

from __future__ import annotations

import logging
import shutil
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.db.models import Q
from django.utils import timezone

from facecommons.common.audit import audit_record
from facecommons.common.db import atomic_write
from facecommons.common.leases import Lease, lease_claim, lease_expired_q
from facecommons.common.storage import private_storage
from facecommons.common.tunables import tunables
from facecommons.releases.models import Snapshot
from facecommons.workbench.models import ACTIVE, Task, TrainingRun, TrainingStatus
from ml.metrics import MetricRow
from ml.registry import list_models
from ml.workbench import REGISTRABLE, Policy, TrainConfig

logger = logging.getLogger(__name__)


class WorkbenchError(Exception):
    """A run cannot be started, registered or cancelled as asked; the message says why."""


# --- settings ----------------------------------------------------------------------------

def time_limit_seconds() -> int:
    return tunables.WORKBENCH_TIME_LIMIT_SECONDS


def memory_limit_mb() -> int:
    return tunables.WORKBENCH_MEMORY_LIMIT_MB


def lease_seconds() -> int:
    return tunables.WORKBENCH_LEASE_SECONDS


def torch_threads() -> int:
    return tunables.WORKBENCH_TORCH_THREADS


def checkpoint_root() -> Path:
    return Path(tunables.WORKBENCH_DIR)


# --- starting ----------------------------------------------------------------------------

def training_run_create(*, snapshot_version: str, task: str, policy: dict[str, Any], seed: int = 0,
                        category: str = "", epochs: int = 8, actor: Any | None = None) -> TrainingRun:
    """Record a queued run after checking the snapshot and the recipe. The caller enqueues it
    (``tasks.enqueue_training``). Raises ``WorkbenchError``."""
    if not Snapshot.objects.filter(version=snapshot_version, status="published").exists():
        raise WorkbenchError(f"No published snapshot {snapshot_version!r}.")
    if task not in Task.values:
        raise WorkbenchError(f"Unknown task {task!r}; use one of {', '.join(Task.values)}.")
    try:
        pol = Policy(kind=policy.get("kind", "as_is"), category=policy.get("category", ""),
                     values=tuple(policy.get("values") or ()), max_photos=policy.get("max_photos") or None)
        cfg = TrainConfig(task=task, policy=pol, seed=seed, category=category, epochs=epochs,
                          min_group_size=tunables.EVAL_MIN_GROUP_SIZE,
                          n_boot=tunables.EVAL_BOOTSTRAP_REPLICATES,
                          target_fmr=tunables.EVAL_TARGET_FMR)
    except ValueError as exc:
        raise WorkbenchError(str(exc)) from exc

    def create() -> TrainingRun:
        run = TrainingRun.objects.create(snapshot_version=snapshot_version, task=task, policy=pol.as_dict(), seed=seed,
                                         config=cfg.as_dict(), epochs=epochs,
                                         requested_by=actor if getattr(actor, "is_authenticated", False) else None)
        audit_record(actor=actor, action="training_run_created", obj=run,
                     after={"snapshot": snapshot_version, "task": task, "policy": pol.as_dict(), "seed": seed})
        return run

    return atomic_write(create)


# --- the worker side ---------------------------------------------------------------------

def training_run_claim(*, run_id: int) -> Lease | None:
    """Take the run for this worker: queued, or running with an expired lease (its worker died)."""
    return lease_claim(TrainingRun.objects.filter(status__in=ACTIVE, cancel_requested=False), pk=run_id,
                       seconds=lease_seconds(), set={"status": TrainingStatus.RUNNING, "started_at": timezone.now()})


def training_run_finish(*, run_id: int, status: str, error: str) -> None:
    """End an active run as ``status`` (cancelled, failed) with its error; an ended run is left alone."""
    n = TrainingRun.objects.filter(pk=run_id, status__in=ACTIVE).update(
        status=status, error=error[:5000], finished_at=timezone.now(), lease_expires_at=None)
    if n:
        audit_record(actor=None, action=f"training_run_{status}", object_type="workbench.trainingrun",
                     object_id=str(run_id), note=error[:500])


def training_run_fail(*, run_id: int, error: str) -> None:
    training_run_finish(run_id=run_id, status=TrainingStatus.FAILED, error=error)


# --- what people do with a run -----------------------------------------------------------

def training_run_cancel(*, run: TrainingRun, actor: Any | None) -> TrainingRun:
    """A queued run is cancelled at once; a running one at the worker's next step."""
    if run.status not in ACTIVE:
        raise WorkbenchError(f"Training run {run.pk} is {run.status}: nothing to cancel.")
    TrainingRun.objects.filter(pk=run.pk, status=TrainingStatus.QUEUED).update(
        status=TrainingStatus.CANCELLED, finished_at=timezone.now(), cancel_requested=True)
    TrainingRun.objects.filter(pk=run.pk, status=TrainingStatus.RUNNING).update(cancel_requested=True)
    audit_record(actor=actor, action="training_run_cancel_requested", obj=run)
    run.refresh_from_db()
    return run


def training_run_register(*, run: TrainingRun, actor: Any | None, model_id: str = "") -> TrainingRun:
    """Install the run's model as a reference model, so every later evaluation measures it.

    Face-vs-background models become detectors, verification models verifiers."""
    if run.status != TrainingStatus.DONE or not run.model_key:
        raise WorkbenchError(f"Training run {run.pk} has no trained model (status {run.status}).")
    if run.task not in REGISTRABLE:
        raise WorkbenchError("The evaluation measures detectors and verifiers: a category classifier cannot be "
                             "registered; its per-group results are on its run's page.")
    model_id = model_id or f"workbench-{run.pk}"
    taken = set(list_models())
    if model_id in taken and model_id != run.registered_model_id:
        raise WorkbenchError(f"A model named {model_id!r} is already registered.")
    # Installing reads the model with PyTorch (a second or more, hundreds of MB): only this rare action needs it.
    from ml.workbench.registry import install  # lazy: PyTorch stays out of the web process's start-up

    folder = checkpoint_root() / f"register-{run.pk}"
    folder.mkdir(parents=True, exist_ok=True)
    with private_storage().open(run.model_key, "rb") as fh:
        (folder / "model.pt").write_bytes(fh.read())
    try:
        install(model_id=model_id, model_file=folder / "model.pt", version=f"run{run.pk}-{run.snapshot_version}",
                weights_source=f"workbench training run {run.pk} on snapshot {run.snapshot_version}")
    except ValueError as exc:
        raise WorkbenchError(str(exc)) from exc
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    TrainingRun.objects.filter(pk=run.pk).update(registered_model_id=model_id)
    audit_record(actor=actor, action="training_run_registered", obj=run, after={"model_id": model_id})
    run.refresh_from_db()
    return run


def stalled_runs() -> list[int]:
    """Runs a worker should pick up: running with an expired lease, or queued for a while."""
    now = timezone.now()
    qs = TrainingRun.objects.filter(
        Q(status=TrainingStatus.RUNNING, lease_expires_at__isnull=False) & lease_expired_q(now=now)
        | Q(status=TrainingStatus.QUEUED, created_at__lt=now - timedelta(minutes=5)), cancel_requested=False)
    return list(qs.values_list("pk", flat=True)[:100])


def as_rows(rows: list[dict[str, Any]]) -> list[Any]:
    fields = set(MetricRow.__dataclass_fields__)
    return [MetricRow(**{k: v for k, v in r.items() if k in fields}) for r in rows]

