"""A snapshot build holds a short lease that its heartbeat renews; a build whose worker died is
enqueued again by the resume pass and taken over (issue 14)."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from facecommons.releases import build, state, tasks
from facecommons.releases.models import Snapshot
from facecommons.releases.services import snapshot_request


def _age(snap: Snapshot, **fields_seconds_ago: float) -> None:
    now = timezone.now()
    Snapshot.objects.filter(pk=snap.pk).update(**{k: now - timedelta(seconds=v) for k, v in fields_seconds_ago.items()})


@pytest.mark.django_db
def test_resume_pass_enqueues_a_dead_build_once_and_it_is_taken_over(make_dataset, release_admin, monkeypatch):
    make_dataset(3)
    snap = snapshot_request(actor=release_admin, enqueue=False)
    sent: list[int] = []
    monkeypatch.setattr(tasks.snapshot_build_task, "delay", lambda pk: sent.append(pk))
    assert tasks.snapshot_resume_task() == []  # pending for less than a minute: its message is on its way
    claimed = state.snapshot_claim(snap.pk)
    assert claimed is not None and claimed.status == "building"
    assert state.snapshot_claim(snap.pk) is None  # a live build is left alone
    assert tasks.snapshot_resume_task() == []
    _age(snap, heartbeat_at=state.build_lease_seconds() + 1)  # the worker died: no beat since
    assert tasks.snapshot_resume_task() == [snap.pk] and sent == [snap.pk]
    assert tasks.snapshot_resume_task() == []  # not sent again while that message waits
    published = build.snapshot_build(snapshot_id=snap.pk)  # what the message does: takes the build over
    assert published is not None and published.status == "published"
    assert tasks.snapshot_resume_task() == []


@pytest.mark.django_db
def test_a_lost_message_of_a_pending_build_is_sent_again(make_dataset, release_admin, monkeypatch):
    make_dataset(2)
    snap = snapshot_request(actor=release_admin, enqueue=False)
    monkeypatch.setattr(tasks.snapshot_build_task, "delay", lambda pk: None)
    _age(snap, created_at=61)
    assert tasks.snapshot_resume_task() == [snap.pk]


@pytest.mark.django_db(transaction=True)
def test_heartbeat_keeps_a_running_build_alive_and_stops_a_superseded_one(make_dataset, release_admin, settings):
    settings.RELEASES_BUILD_STALE_SECONDS = 3  # beats every second
    make_dataset(2)
    snap = snapshot_request(actor=release_admin, enqueue=False)
    claimed = state.snapshot_claim(snap.pk)
    assert claimed is not None
    with build._heartbeat(claimed) as heartbeat:
        _age(snap, heartbeat_at=2.5)
        time.sleep(1.8)
        connection.close()
        beat = Snapshot.objects.get(pk=snap.pk).heartbeat_at
        assert beat > timezone.now() - timedelta(seconds=1.5), "no beat while the build ran"
        assert state.snapshot_claim(snap.pk) is None
        # Another worker takes the build over (as after a long stall): the old heartbeat notices.
        _age(snap, heartbeat_at=10)
        assert state.snapshot_claim(snap.pk) is not None
        deadline = time.monotonic() + 5
        while not heartbeat.lost and time.monotonic() < deadline:
            time.sleep(0.1)
        assert heartbeat.lost
    progress = build._Progress(snap.pk, heartbeat)
    from facecommons.common.leases import LeaseLost

    with pytest.raises(LeaseLost):
        progress("storing", 1, 2)


@pytest.mark.django_db
def test_a_superseded_build_neither_publishes_nor_fails_its_successor(make_dataset, release_admin):
    from facecommons.common.leases import LeaseLost

    make_dataset(3)
    snap = snapshot_request(actor=release_admin, enqueue=False)
    old = state.snapshot_claim(snap.pk)
    assert old is not None
    fields = build._build(old)
    _age(snap, heartbeat_at=state.build_lease_seconds() + 1)  # stalled; taken over below
    new = state.snapshot_claim(snap.pk)
    assert new is not None and new.started_at != old.started_at
    with pytest.raises(LeaseLost):
        build._publish(old, fields)
    assert state.snapshot_fail(snapshot_id=snap.pk, error="late failure", started_at=old.started_at) is None
    assert Snapshot.objects.get(pk=snap.pk).status == "building"  # still the successor's
    published = build._publish(new, fields)
    assert published.status == "published"
