"""The worker side of a training run: read the snapshot, train with hooks that renew the lease,
see a cancel and enforce the memory limit, then store the model and its per-group results.

Only the Celery task that trains imports this module (``tasks.workbench_train``): it loads
PyTorch, which the web process, reading and starting runs through ``services``, never needs."""

from __future__ import annotations

import math
import resource
import shutil
import time
from typing import Any

from django.db.models import Q
from django.utils import timezone

from facecommons.common.audit import audit_record
from facecommons.common.db import atomic_write
from facecommons.common.leases import Lease, lease_renew, lease_until
from facecommons.common.storage import private_storage, storage_delete, storage_save_bytes
from facecommons.releases.archive.store import BlobStore
from facecommons.releases.contents import served_entries, withdrawn_paths
from facecommons.releases.models import Snapshot
from facecommons.workbench.cards import model_card
from facecommons.workbench.models import TrainingRun, TrainingStatus
from facecommons.workbench.services import (
    WorkbenchError,
    checkpoint_root,
    lease_seconds,
    memory_limit_mb,
    torch_threads,
    training_run_finish,
)
from ml.workbench import Cancelled, Hooks, Progress, SnapshotError, TrainConfig, load_snapshot
from ml.workbench.registry import save_model
from ml.workbench.tasks import train


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

    def progress(self, p: Progress) -> None:
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
        training_run_finish(run_id=run.pk, status=TrainingStatus.CANCELLED, error="")
        shutil.rmtree(ckpt, ignore_errors=True)
        return TrainingRun.objects.get(pk=run.pk)
    except (WorkbenchError, SnapshotError, ValueError, MemoryError) as exc:
        training_run_finish(run_id=run.pk, status=TrainingStatus.FAILED, error=str(exc))
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
