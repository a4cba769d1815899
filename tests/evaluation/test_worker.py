"""An evaluation chunk on a REAL Celery worker that is SIGKILLed mid-chunk (issue 14): with the
default 30 s heartbeat-renewed lease and the resume pass at its beat interval, another worker
computes the chunk again within a minute, redoing only what the dead worker had not stored."""

from __future__ import annotations

import time

import pytest
from django.db import connection

from facecommons.evaluation import services, tasks
from facecommons.evaluation.models import EvaluationChunk, EvaluationRun, ModelResult
from tests.workers import Worker, flush_broker, worker_env

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

PHOTOS = 48


def _resume_interval_seconds() -> float:
    """The resume pass's beat interval, as the data migrations schedule it."""
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.select_related("interval").get(task="facecommons.evaluation.tasks.evaluation_resume")
    assert task.queue == "default"  # not behind the chunks it recovers
    return task.interval.schedule.run_every.total_seconds()


def _chunk(pk: int) -> EvaluationChunk:
    connection.close()  # a fresh read
    return EvaluationChunk.objects.get(pk=pk)


def test_sigkill_mid_chunk_is_recomputed_within_a_minute(settings, tmp_path, approved_photo, make_user):
    import config.settings.test as test_settings

    # The worker processes see the session's storage, not this module's per-test folder.
    settings.STORAGES = test_settings.STORAGES
    every = _resume_interval_seconds()
    assert every <= 10
    owner = make_user()
    for i in range(PHOTOS):
        approved_photo(i, owner=owner)
    run = services.evaluation_run_start(models=["retinaface-mobilenet"], size=PHOTOS)
    chunk_id = run.chunks.get().pk
    flush_broker()
    env = worker_env(EVAL_LOWLIGHT_LEVELS="", EVAL_MIN_GROUP_SIZE="10", EVAL_BOOTSTRAP_REPLICATES="20")
    first = Worker(tmp_path / "w1.log", env, queues=("evaluation",))
    second = None
    try:
        first.wait_ready(120)
        tasks.enqueue_run(run.pk)  # autocommit: sent at once
        # Kill once the worker has claimed the chunk and stored part of it.
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            stored = ModelResult.objects.filter(model_id="retinaface-mobilenet").count()
            if stored >= 3:
                break
            time.sleep(0.05)
        first.kill()
        killed_at = time.monotonic()
        chunk = _chunk(chunk_id)
        stored = ModelResult.objects.filter(model_id="retinaface-mobilenet").count()
        print(f"killed after {stored} of {PHOTOS} photos")
        assert chunk.status == "pending" and chunk.attempts == 1, (chunk.status, chunk.attempts)
        assert 3 <= stored < PHOTOS, "the worker finished the chunk before it could be killed"
        # Another worker is running (as in production): only the lease and the resume pass are measured.
        second = Worker(tmp_path / "w2.log", env, queues=("evaluation",))
        second.wait_ready(120)
        last_resume = 0.0
        while _chunk(chunk_id).status != "done" and time.monotonic() - killed_at < 120:
            if time.monotonic() - last_resume >= every:
                tasks.evaluation_resume()  # what the beat entry does every `every` seconds
                last_resume = time.monotonic()
            time.sleep(0.2)
        took = time.monotonic() - killed_at
        print(f"chunk computed again {took:.1f} s after the kill (lease {services.chunk_lease_seconds()} s, "
              f"resume every {every:.0f} s)")
        chunk = _chunk(chunk_id)
        assert chunk.status == "done", (second.log.read_text()[-3000:])
        assert took < 60, f"recovery took {took:.1f} s"
        # The second claim redid only what the killed worker had not stored.
        assert chunk.attempts == 2 and chunk.reused >= stored and chunk.computed == PHOTOS - chunk.reused
        assert ModelResult.objects.filter(model_id="retinaface-mobilenet").count() == PHOTOS
        deadline = time.monotonic() + 120
        while EvaluationRun.objects.get(pk=run.pk).status != "done" and time.monotonic() < deadline:
            time.sleep(0.3)
            connection.close()
        assert EvaluationRun.objects.get(pk=run.pk).status == "done"
    finally:
        first.stop()
        if second is not None:
            second.stop()
