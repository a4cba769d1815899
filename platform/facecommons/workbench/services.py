"""Workbench services: starting, claiming, executing, cancelling and registering training runs.
The Celery tasks, API and pages are thin wrappers around these."""

from __future__ import annotations

import logging
import math
import resource
import shutil
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.db.models import Q
from django.utils import timezone

from facecommons.common.audit import audit_record
from facecommons.common.db import atomic_write
from facecommons.common.leases import Lease, lease_claim, lease_expired_q, lease_renew, lease_until
from facecommons.common.storage import private_storage, storage_delete, storage_save_bytes
from facecommons.common.tunables import tunables
from facecommons.releases.archive.store import BlobStore
from facecommons.releases.contents import served_entries, withdrawn_paths
from facecommons.releases.models import Snapshot
from facecommons.workbench.cards import model_card
from facecommons.workbench.models import ACTIVE, Task, TrainingRun, TrainingStatus
from ml.metrics import MetricRow
from ml.registry import list_models
from ml.workbench import Cancelled, Hooks, Policy, SnapshotError, TrainConfig, load_snapshot, train
from ml.workbench.registry import REGISTRABLE, install, save_model

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


def _rss_mb() -> float:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class _Watch:
    """The hooks' link to the database: renew the lease, see a cancel, enforce the memory limit.
    Checks at most every two seconds (a training step is milliseconds)."""

    def __init__(self, run_id: int) -> None:
        self.run_id = run_id
        # Precondition of the caller (claimed the run): the row carries this worker's claim.
        self.lease = Lease.current(TrainingRun.objects.get(pk=run_id), seconds=lease_seconds())
        self.last = 0.0
        self.stop = False

    def should_stop(self) -> bool:
        now = time.monotonic()
        if now - self.last < 2.0:
            return self.stop
        self.last = now
        if _rss_mb() > memory_limit_mb():
            raise MemoryError(f"the run used more than WORKBENCH_MEMORY_LIMIT_MB = {memory_limit_mb()} MB")
        self.stop = not lease_renew(self.lease, where=Q(status=TrainingStatus.RUNNING, cancel_requested=False))
        return self.stop

    def progress(self, p: Any) -> None:
        run = TrainingRun.objects.only("history", "attempts").get(pk=self.run_id)
        # ``attempt``: which claim of the run trained this epoch (a resumed run keeps the earlier ones).
        entry = {"epoch": p.epoch, "loss": _finite(p.loss), "validation": _finite(p.validation), "steps": p.steps,
                 "attempt": run.attempts}
        TrainingRun.objects.filter(pk=self.run_id, status=TrainingStatus.RUNNING).update(
            epoch=p.epoch, epochs=p.epochs, loss=_finite(p.loss), validation=_finite(p.validation),
            validation_name=p.validation_name[:80], history=[*[h for h in run.history if h["epoch"] < p.epoch], entry],
            lease_expires_at=lease_until(lease_seconds()))


def _json_safe(obj: Any) -> Any:
    """NaN and infinity become null: PostgreSQL's JSON has no such numbers."""
    if isinstance(obj, float):
        return _finite(obj)
    if isinstance(obj, dict):
        return {k: _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_json_safe(v) for v in obj]
    return obj


def _finite(x: float) -> float | None:
    return None if x is None or math.isnan(x) or math.isinf(x) else float(x)


def load_run_snapshot(version: str) -> Any:
    """The published snapshot as researchers receive it: read from the content-addressed store
    through its manifest (or, for a snapshot built before manifests, from its stored tar),
    without the files withdrawn since publication (their people asked for them to be deleted)."""
    snap = Snapshot.objects.filter(version=version, status="published").first()
    if snap is None or not (snap.manifest_sha256 or snap.archive_key):
        raise WorkbenchError(f"No published snapshot {version!r} with its files.")
    gone = withdrawn_paths(snap)
    try:
        if snap.manifest_sha256:
            files = {e.path: e.sha256 for e in served_entries(snap)}
            store = BlobStore()

            def read(rel: str) -> bytes:
                sha = files.get(rel)
                if sha is None:
                    raise SnapshotError(f"{rel} is not in snapshot {version}")
                with store.open(sha) as fh:
                    return fh.read()

            loaded = load_snapshot(read)
        else:
            loaded = load_snapshot(private_storage().open(snap.archive_key, "rb"))
    except (OSError, SnapshotError) as exc:
        raise WorkbenchError(f"Snapshot {version} cannot be read: {exc}") from exc
    loaded.photos = [p for p in loaded.photos if p.path not in gone and p.crop not in gone]
    return loaded


def training_run_execute(*, run_id: int) -> TrainingRun:
    """Train (resuming from the run's checkpoint if there is one), store the model, the model
    card and the per-group results. Precondition: the caller claimed the run.

    A cancel ends it ``cancelled``; a bad snapshot, the memory limit or any error ``failed``."""
    run = TrainingRun.objects.get(pk=run_id)
    ckpt = checkpoint_root() / f"run-{run.pk}"
    watch = _Watch(run.pk)
    try:
        cfg = TrainConfig.from_dict(run.config)
        snap = load_run_snapshot(run.snapshot_version)
        try:
            result = train(snap, cfg, Hooks(progress=watch.progress, should_stop=watch.should_stop,
                                            checkpoint_dir=ckpt, threads=torch_threads(),
                                            tag={"attempt": run.attempts}))
        finally:
            snap.close()
    except Cancelled:
        _finish(run.pk, TrainingStatus.CANCELLED, error="")
        shutil.rmtree(ckpt, ignore_errors=True)
        return TrainingRun.objects.get(pk=run.pk)
    except (WorkbenchError, SnapshotError, ValueError, MemoryError) as exc:
        _finish(run.pk, TrainingStatus.FAILED, error=str(exc))
        return TrainingRun.objects.get(pk=run.pk)
    tmp = ckpt / "model.pt"
    save_model(result, tmp)
    key = storage_save_bytes(f"workbench/{run.pk}/model.pt", tmp.read_bytes())

    def store() -> None:
        r = TrainingRun.objects.select_for_update().get(pk=run.pk)
        if r.status != TrainingStatus.RUNNING:
            storage_delete(key)  # cancelled at the very end: keep nothing
            return
        r.rows = [row.as_dict() for row in result.rows]
        r.baseline_rows = [row.as_dict() for row in result.baseline_rows]
        # Each entry carries the attempt that trained it, saved with the checkpoint: a worker killed
        # after saving an epoch but before recording it still leaves that epoch its own attempt.
        recorded = {h["epoch"]: h.get("attempt") for h in r.history}
        r.summary = _json_safe(result.summary)
        r.history = _json_safe([{**h, "attempt": h.get("attempt", recorded.get(h["epoch"]))} for h in result.history])
        r.training_set, r.training_set_size = result.training_set, len(result.training_set)
        r.model_key, r.status, r.finished_at, r.lease_expires_at = key, TrainingStatus.DONE, timezone.now(), None
        r.epoch = len(result.history)
        r.model_card = model_card(r)
        r.save(update_fields=["rows", "baseline_rows", "summary", "history", "training_set", "training_set_size",
                              "model_key", "status", "finished_at", "lease_expires_at", "epoch", "model_card"])
        audit_record(actor=None, action="training_run_done", obj=r, after={"training_set": r.training_set_size})

    atomic_write(store)
    shutil.rmtree(ckpt, ignore_errors=True)
    return TrainingRun.objects.get(pk=run.pk)


def _finish(run_id: int, status: str, *, error: str) -> None:
    n = TrainingRun.objects.filter(pk=run_id, status__in=ACTIVE).update(
        status=status, error=error[:5000], finished_at=timezone.now(), lease_expires_at=None)
    if n:
        audit_record(actor=None, action=f"training_run_{status}", object_type="workbench.trainingrun",
                     object_id=str(run_id), note=error[:500])


def training_run_fail(*, run_id: int, error: str) -> None:
    _finish(run_id, TrainingStatus.FAILED, error=error)


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

