"""A snapshot build on a REAL Celery worker that is SIGKILLed mid-build (issue 14): with the
default 30 s heartbeat-renewed lease and the resume pass at its beat interval, another worker
builds and publishes it within a minute."""

from __future__ import annotations

import time

import pytest
from django.db import connection

from facecommons.releases import tasks
from facecommons.releases.models import Snapshot
from facecommons.releases.services import snapshot_request
from facecommons.releases.state import build_lease_seconds
from tests.workers import Worker, flush_broker, worker_env

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def _resume_interval_seconds() -> float:
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.select_related("interval").get(task="facecommons.releases.tasks.snapshot_resume_task")
    assert task.queue == "default"  # not behind the builds it recovers
    return task.interval.schedule.run_every.total_seconds()


def _snapshot(pk: int) -> Snapshot:
    connection.close()  # a fresh read
    return Snapshot.objects.get(pk=pk)


def test_sigkill_mid_build_is_published_within_a_minute(tmp_path, make_dataset, release_admin):
    every = _resume_interval_seconds()
    assert every <= 10
    make_dataset(240)  # about 600 photos: a build of a few seconds here
    snap = snapshot_request(actor=release_admin, enqueue=False)
    flush_broker()
    # Copy and check each file: a build long enough to be killed in.
    env = worker_env(RELEASES_BLOB_LINK="false")
    first = Worker(tmp_path / "w1.log", env, queues=("releases",))
    second = None
    try:
        first.wait_ready(120)
        tasks.snapshot_build_task.delay(snap.pk)
        deadline = time.monotonic() + 120
        # Kill once it is storing photos (its first progress report).
        while time.monotonic() < deadline:
            now = _snapshot(snap.pk)
            if now.status != "pending" and now.phase != "selecting":
                break
            time.sleep(0.01)
        first.kill()
        killed_at = time.monotonic()
        killed = _snapshot(snap.pk)
        print(f"killed in phase {killed.phase!r} at {killed.progress_done} of {killed.progress_total} photos")
        assert killed.status == "building", f"killed while {killed.status}: the build ended before it could be killed"
        second = Worker(tmp_path / "w2.log", env, queues=("releases",))
        second.wait_ready(120)
        last_resume = 0.0
        while _snapshot(snap.pk).status == "building" and time.monotonic() - killed_at < 120:
            if time.monotonic() - last_resume >= every:
                tasks.snapshot_resume_task()  # what the beat entry does every `every` seconds
                last_resume = time.monotonic()
            time.sleep(0.2)
        took = time.monotonic() - killed_at
        done = _snapshot(snap.pk)
        print(f"snapshot published {took:.1f} s after the kill (lease {build_lease_seconds()} s, "
              f"resume every {every:.0f} s)")
        assert done.status == "published", (done.status, done.error, second.log.read_text()[-3000:])
        assert took < 60, f"recovery took {took:.1f} s"
        assert done.counts.get("photos", 0) == done.entries.count() > 500
    finally:
        first.stop()
        if second is not None:
            second.stop()
