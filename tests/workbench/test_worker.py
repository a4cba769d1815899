"""A training run on a REAL Celery worker that is SIGKILLed mid-training, then resumed by
another worker from its last checkpoint (the file broker, or Redis when REDIS_URL is set)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid

import pytest
from django.db import connection

from facecommons.workbench import services, tasks
from facecommons.workbench.models import TrainingRun, TrainingStatus
from tests.pipeline.test_worker import Worker, _database_url, _flush_broker

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


class EvaluationWorker(Worker):
    def __init__(self, log, env) -> None:  # the pipeline's worker, on the evaluation queue
        self.log = log
        self._fh = open(log, "wb")  # noqa: SIM115 - closed in stop()
        cmd = [sys.executable, "-m", "celery", "--workdir", "platform", "-A", "config.celery_app", "worker",
               "-P", "prefork", "-c", "1", "-Q", "evaluation", "--loglevel", "INFO",
               "-n", f"workbench-test-{uuid.uuid4().hex[:8]}@%h", "--without-mingle", "--without-gossip",
               "--without-heartbeat"]
        from tests.pipeline.test_worker import ROOT

        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=self._fh, stderr=subprocess.STDOUT,
                                     start_new_session=True)


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
    _flush_broker()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "DATABASE_URL": _database_url(),
           "TEST_VAR_DIR": settings.TEST_VAR_DIR, "CELERY_BROKER_DIR": str(settings.CELERY_BROKER_DIR),
           "CELERY_BROKER_URL": settings.CELERY_BROKER_URL, "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "1",
           "WORKBENCH_DIR": str(tmp_path / "ckpt"), "WORKBENCH_LEASE_SECONDS": "4", "EVAL_MIN_GROUP_SIZE": "2",
           "EVAL_BOOTSTRAP_REPLICATES": "20"}
    settings.WORKBENCH_DIR = str(tmp_path / "ckpt")
    run = services.training_run_create(snapshot_version=snap.version, task="face-vs-background", policy={},
                                       epochs=40)
    first = EvaluationWorker(tmp_path / "w1.log", env)
    try:
        first.wait_ready(120)
        tasks.enqueue_training(run.pk)  # autocommit: sent at once
        mid = _wait(run.pk, lambda r: r.epoch >= 2, 180)
        first.kill()
    finally:
        first.stop()
    assert mid.status == TrainingStatus.RUNNING and 2 <= mid.epoch < 40, (mid.status, mid.epoch, mid.error)
    ckpt = tmp_path / "ckpt" / f"run-{run.pk}" / "checkpoint.pt"
    assert ckpt.exists()
    # The checkpoint is saved before the epoch is recorded: a kill between the two leaves the
    # database one epoch behind, and that epoch still belongs to the first attempt.
    import torch

    killed_at = int(torch.load(ckpt, weights_only=False)["epoch"])
    assert TrainingRun.objects.get(pk=run.pk).epoch in (killed_at - 1, killed_at)
    second = EvaluationWorker(tmp_path / "w2.log", env)
    try:
        second.wait_ready(120)
        time.sleep(4.5)  # the dead worker's lease runs out
        tasks.workbench_resume()  # what the beat entry does every 10 minutes
        done = _wait(run.pk, lambda r: r.status != TrainingStatus.RUNNING, 300)
    finally:
        second.stop()
    assert done.status == TrainingStatus.DONE, (done.status, done.error, (tmp_path / "w2.log").read_text()[-2000:])
    assert done.attempts >= 2 and [h["epoch"] for h in done.history] == list(range(1, 41))
    # The epochs the first worker finished were not trained again: they keep its attempt number.
    assert {h["attempt"] for h in done.history[:killed_at]} == {1}
    assert {h["attempt"] for h in done.history[killed_at:]} == {done.attempts}
