"""Training runs through the services and tasks: results per group, skewed training sets,
cancel, resume after a dead worker, registration as a reference model."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from facecommons.common.models import AuditEvent
from facecommons.workbench import services, tasks, training
from facecommons.workbench.models import TrainingRun, TrainingStatus
from ml.workbench import load_snapshot

pytestmark = pytest.mark.django_db


def _test_counts(archive, key):
    import io

    snap = load_snapshot(io.BytesIO(archive))
    return Counter(v for p in snap.split("test") for v in p.groups(key))


def _run(snapshot, task="face-vs-background", epochs=2, **kw):
    policy = kw.pop("policy", {"kind": "as_is"})
    return services.training_run_create(snapshot_version=snapshot.version, task=task, policy=policy,
                                        epochs=epochs, **kw)


def _execute(run):
    assert services.training_run_claim(run_id=run.pk)
    return training.training_run_execute(run_id=run.pk)


def test_skewed_run_records_its_training_set_and_reports_every_group(snapshot, archive):
    run = _run(snapshot, policy={"kind": "skewed", "category": "gender", "values": ["man"]})
    done = _execute(run)
    assert done.status == TrainingStatus.DONE, done.error
    assert done.training_set_size == len(done.training_set) > 0
    assert {r["labels"]["gender"] for r in done.training_set} == {"man"}
    miss = {r["value"]: r for r in done.rows if r["metric"] == "miss_rate" and r["category"] == "gender"}
    assert {g: r["n"] for g, r in miss.items()} == dict(_test_counts(archive, "gender"))
    assert [h["epoch"] for h in done.history] == [1, 2] and done.epoch == 2
    assert "Snapshot 2026.11.0" in done.model_card and "skewed" in done.model_card
    from facecommons.common.storage import private_storage

    assert private_storage().exists(done.model_key)
    assert AuditEvent.objects.filter(action="training_run_done", object_id=str(run.pk)).exists()


def test_snapshot_before_manifests_and_withdrawn_photos(snapshot, tar_snapshot):
    from facecommons.releases.models import Withdrawal

    old = training.load_run_snapshot(tar_snapshot.version)
    new = training.load_run_snapshot(snapshot.version)
    assert [p.path for p in old.photos] == [p.path for p in new.photos]
    gone = new.split("train")[0]
    Withdrawal.objects.create(snapshot=snapshot, subject_id=gone.subject, contribution_id="00000000-0000-0000-0000-000000000001",
                              file_names=[gone.path, gone.crop])
    after = training.load_run_snapshot(snapshot.version)
    assert gone.path not in {p.path for p in after.photos} and len(after.photos) == len(new.photos) - 1


def test_category_and_verification_runs(snapshot, archive):
    cat = _execute(_run(snapshot, task="category", category="gender", epochs=1))
    assert cat.status == TrainingStatus.DONE, cat.error
    acc = {r["value"]: r["n"] for r in cat.rows if r["metric"] == "accuracy" and r["category"] == "gender"}
    assert acc == dict(_test_counts(archive, "gender"))
    assert any(r["metric"] == "gn_score" and r["category"] == "gender" for r in cat.rows)
    ver = _execute(_run(snapshot, task="verification", epochs=1))
    assert ver.status == TrainingStatus.DONE, ver.error
    assert any(r["metric"] == "fnmr@target" for r in ver.rows)
    assert any(r["metric"] == "fmr@target" for r in ver.baseline_rows)  # the frozen dlib baseline


def test_bad_recipes_are_clear_errors(snapshot):
    with pytest.raises(services.WorkbenchError, match="No published snapshot"):
        services.training_run_create(snapshot_version="1999.01.0", task="category", policy={}, category="gender")
    with pytest.raises(services.WorkbenchError, match="needs the values"):
        _run(snapshot, policy={"kind": "skewed", "category": "gender"})
    run = _execute(_run(snapshot, task="category", category="no_such_category", epochs=1))
    assert run.status == TrainingStatus.FAILED and "no category" in run.error


def test_cancel_queued_and_running(snapshot):
    queued = _run(snapshot)
    services.training_run_cancel(run=queued, actor=None)
    queued.refresh_from_db()
    assert queued.status == TrainingStatus.CANCELLED
    assert not services.training_run_claim(run_id=queued.pk)
    running = _run(snapshot)
    assert services.training_run_claim(run_id=running.pk)
    services.training_run_cancel(run=running, actor=None)  # the worker sees it at its next step
    result = training.training_run_execute(run_id=running.pk)
    assert result.status == TrainingStatus.CANCELLED and not result.model_key and result.epoch == 0
    with pytest.raises(services.WorkbenchError):
        services.training_run_cancel(run=result, actor=None)


class WorkerDied(BaseException):
    """Stands for SIGKILL: nothing after it runs, not even the task's error handling."""


def test_run_resumes_from_its_checkpoint_after_the_worker_died(snapshot, monkeypatch,
                                                               django_capture_on_commit_callbacks):
    run = _run(snapshot, epochs=3)
    real_progress = training._Watch.progress
    seen: list[int] = []

    def die_after_first_epoch(self, p):
        real_progress(self, p)
        seen.append(p.epoch)
        if p.epoch == 1 and len(seen) == 1:
            raise WorkerDied()

    monkeypatch.setattr(training._Watch, "progress", die_after_first_epoch)
    with pytest.raises(WorkerDied):
        tasks.workbench_train(run.pk)
    run.refresh_from_db()
    assert run.status == TrainingStatus.RUNNING and run.epoch == 1  # left as the dead worker left it
    assert not services.training_run_claim(run_id=run.pk)  # its lease still holds
    TrainingRun.objects.filter(pk=run.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    sent = []
    monkeypatch.setattr(tasks.workbench_train, "apply_async", lambda args, **kw: sent.append(args[0]))
    tasks.workbench_resume()
    assert sent == [run.pk]
    tasks.workbench_train(run.pk)
    run.refresh_from_db()
    assert run.status == TrainingStatus.DONE and run.attempts == 2
    assert seen == [1, 2, 3]  # the second worker started at epoch 2, from the checkpoint
    assert [h["epoch"] for h in run.history] == [1, 2, 3]


def test_enqueue_runs_on_commit_with_time_limits(snapshot, settings, monkeypatch, django_capture_on_commit_callbacks):
    settings.WORKBENCH_TIME_LIMIT_SECONDS = 77
    sent = []
    monkeypatch.setattr(tasks.workbench_train, "apply_async", lambda args, **kw: sent.append((args, kw)))
    run = _run(snapshot)
    with django_capture_on_commit_callbacks(execute=True):
        tasks.enqueue_training(run.pk)
        assert sent == []
    assert sent == [((run.pk,), {"soft_time_limit": 77, "time_limit": 197})]


def test_memory_limit_fails_the_run(snapshot, settings):
    settings.WORKBENCH_MEMORY_LIMIT_MB = 1
    run = _execute(_run(snapshot))
    assert run.status == TrainingStatus.FAILED and "WORKBENCH_MEMORY_LIMIT_MB" in run.error


def test_registered_model_is_in_the_next_evaluation(snapshot):
    from facecommons.evaluation import engine

    run = _execute(_run(snapshot, epochs=1))
    cat = _execute(_run(snapshot, task="category", category="gender", epochs=1))
    with pytest.raises(services.WorkbenchError, match="category classifier"):
        services.training_run_register(run=cat, actor=None)
    services.training_run_register(run=run, actor=None)
    run.refresh_from_db()
    assert run.registered_model_id == f"workbench-{run.pk}"
    specs, unavailable = engine.resolve_models(None)  # what the nightly evaluation measures (metadata only)
    mine = [s for s in specs if s.id == run.registered_model_id]
    assert mine and mine[0].task == "detection" and mine[0].version == f"run{run.pk}-2026.11.0"
    with pytest.raises(services.WorkbenchError, match="already registered"):
        services.training_run_register(run=run, actor=None, model_id="retinaface-mobilenet")
