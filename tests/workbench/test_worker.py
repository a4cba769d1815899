"""A training run on a REAL Celery worker (tests/workers.py; one child on the evaluation queue)
that is SIGKILLed mid-training, then resumed by another worker from its last checkpoint."""

from __future__ import annotations

import time

import pytest
from django.db import connection

from facecommons.workbench import services, tasks
from facecommons.workbench.models import TrainingRun, TrainingStatus
from tests.workers import Worker, flush_broker, worker_env

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def _wait(run_id: int, until, timeout: float) -> TrainingRun:
    deadline = time.monotonic() + timeout
    while True:
        connection.close()  # a fresh read
        run = TrainingRun.objects.get(pk=run_id)
        if until(run) or time.monotonic() > deadline:
            return run
        time.sleep(0.3)


def test_killed_worker_resumes_from_checkpoint(settings, tmp_path):
    import config.settings.test as test_settings

    settings.STORAGES = test_settings.STORAGES  # the worker process sees the session's storage
    # the snapshot fixture stored its blobs in the per-test storage: store them again where the worker looks
    from facecommons.releases.models import Snapshot
    from tests.workbench.conftest import store_synthetic

    snap = store_synthetic(version="2026.11.9")
    assert Snapshot.objects.filter(version=snap.version).exists()
    flush_broker()
    env = worker_env(WORKBENCH_DIR=str(tmp_path / "ckpt"), WORKBENCH_LEASE_SECONDS="4", EVAL_MIN_GROUP_SIZE="2",
                     EVAL_BOOTSTRAP_REPLICATES="20")
    settings.WORKBENCH_DIR = str(tmp_path / "ckpt")
    run = services.training_run_create(snapshot_version=snap.version, task="face-vs-background", policy={},
                                       epochs=40)
    with Worker(tmp_path / "w1.log", env, queues=("evaluation",)) as first:
        first.wait_ready(120)
        tasks.enqueue_training(run.pk)  # autocommit: sent at once
        mid = _wait(run.pk, lambda r: r.epoch >= 2, 180)
        first.kill()
    assert mid.status == TrainingStatus.RUNNING and 2 <= mid.epoch < 40, (mid.status, mid.epoch, mid.error)
    ckpt = tmp_path / "ckpt" / f"run-{run.pk}" / "checkpoint.pt"
    assert ckpt.exists()
    # The checkpoint is saved before the epoch is recorded: a kill between the two leaves the
    # database one epoch behind, and that epoch still belongs to the first attempt.
    import torch

    killed_at = int(torch.load(ckpt, weights_only=False)["epoch"])
    assert TrainingRun.objects.get(pk=run.pk).epoch in (killed_at - 1, killed_at)
    with Worker(tmp_path / "w2.log", env, queues=("evaluation",)) as second:
        second.wait_ready(120)
        time.sleep(4.5)  # the dead worker's lease runs out
        tasks.workbench_resume()  # what the beat entry does every 10 minutes
        done = _wait(run.pk, lambda r: r.status != TrainingStatus.RUNNING, 300)
    assert done.status == TrainingStatus.DONE, (done.status, done.error, (tmp_path / "w2.log").read_text()[-2000:])
    assert done.attempts >= 2 and [h["epoch"] for h in done.history] == list(range(1, 41))
    # The epochs the first worker finished were not trained again: they keep its attempt number.
    assert {h["attempt"] for h in done.history[:killed_at]} == {1}
    assert {h["attempt"] for h in done.history[killed_at:]} == {done.attempts}
