"""Snapshot state: only allowed transitions, each audited (failures included), one active build
held by the database."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def _actions(snap):
    from facecommons.common.models import AuditEvent

    return list(AuditEvent.objects.filter(object_type="releases.snapshot", object_id=str(snap.pk))
                .order_by("id").values_list("action", flat=True))


@pytest.mark.parametrize(("start", "to"), [
    ("pending", "published"),
    ("failed", "published"),
    ("failed", "failed"),
    ("published", "building"),
    ("published", "failed"),
    ("published", "pending"),
    ("building", "pending"),
])
def test_an_illegal_transition_is_refused_and_writes_nothing(release_admin, start, to):
    from facecommons.releases.models import Snapshot
    from facecommons.releases.services import snapshot_request
    from facecommons.releases.state import TransitionRefused, snapshot_transition

    snap = snapshot_request(actor=release_admin, enqueue=False)
    # Put the row in the starting state without the service (what a test may do, not the code).
    Snapshot.objects.filter(pk=snap.pk).update(status=start, error="")
    with pytest.raises(TransitionRefused):
        snapshot_transition(snapshot_id=snap.pk, to=to, actor=release_admin, fields={"error": "should not stick"})
    snap.refresh_from_db()
    assert snap.status == start and snap.error == ""
    assert _actions(snap) == ["snapshot_requested"]


def test_a_published_snapshot_is_not_claimed_again(build):
    from facecommons.releases.build import snapshot_build
    from facecommons.releases.state import snapshot_claim

    snap = build()
    before = _actions(snap)
    assert snapshot_claim(snap.pk) is None
    assert snapshot_build(snapshot_id=snap.pk) is None
    snap.refresh_from_db()
    assert snap.status == "published" and _actions(snap) == before


def test_a_failure_while_publishing_is_audited_and_frees_the_build(make_dataset, release_admin, monkeypatch):
    """Publication is part of the build: if it raises, the snapshot is failed (with its audit
    record), not left building, where it would hold the one active build for good."""
    from facecommons.common.models import AuditEvent
    from facecommons.releases import build as build_module
    from facecommons.releases.services import snapshot_request

    make_dataset(3)
    snap = snapshot_request(actor=release_admin, enqueue=False)

    def gone(*, snapshot):
        raise RuntimeError("withdrawals table locked")

    monkeypatch.setattr(build_module, "withdrawal_record_gone", gone)
    with pytest.raises(RuntimeError):
        build_module.snapshot_build(snapshot_id=snap.pk)
    snap.refresh_from_db()
    assert snap.status == "failed" and "withdrawals table locked" in snap.error
    assert _actions(snap) == ["snapshot_requested", "snapshot_building", "snapshot_failed"]
    failed = AuditEvent.objects.get(object_id=str(snap.pk), action="snapshot_failed")
    assert failed.before == {"status": "building"} and "withdrawals table locked" in failed.after["error"]
    # The failed snapshot holds nothing: another build may be requested.
    assert snapshot_request(actor=release_admin, enqueue=False).status == "pending"


@pytest.mark.parametrize("active", ["pending", "building"])
def test_the_database_refuses_a_second_active_build(release_admin, active):
    from django.db import IntegrityError, transaction
    from django.utils import timezone

    from facecommons.releases.models import Snapshot

    Snapshot.objects.create(version="2000.01.0", cutoff_at=timezone.now(), status=active)
    for second in ("pending", "building"):
        with pytest.raises(IntegrityError), transaction.atomic():
            Snapshot.objects.create(version=f"2000.01.{second}", cutoff_at=timezone.now(), status=second)
        # A moved row is held to it too, not only a new one.
        other = Snapshot.objects.create(version=f"2000.02.{second}", cutoff_at=timezone.now(), status="failed")
        with pytest.raises(IntegrityError), transaction.atomic():
            Snapshot.objects.filter(pk=other.pk).update(status=second)
    # Any number of finished ones sit beside it.
    for i, done in enumerate(("published", "published", "failed", "failed")):
        Snapshot.objects.create(version=f"2000.03.{i}", cutoff_at=timezone.now(), status=done)
    assert Snapshot.objects.filter(status__in=["pending", "building"]).count() == 1


def test_the_constraint_refusal_is_the_api_refusal(release_admin, client_for):
    """The second request fails on the constraint (the service reads nothing first) and gets
    the same error as ever: 409 build_in_progress, naming the build that holds it."""
    from facecommons.releases.models import Snapshot
    from facecommons.releases.services import ReleaseError, snapshot_request

    first = snapshot_request(actor=release_admin, enqueue=False)
    with pytest.raises(ReleaseError) as refused:
        snapshot_request(actor=release_admin, enqueue=False)
    assert refused.value.code == "build_in_progress" and refused.value.status == 409
    assert first.version in str(refused.value)
    resp = client_for(release_admin).post("/api/v1/snapshots/", {}, format="json")
    assert resp.status_code == 409 and resp.json()["error"]["code"] == "build_in_progress"
    assert first.version in resp.json()["error"]["message"]
    assert Snapshot.objects.count() == 1


def test_every_transition_is_audited_failures_included(make_dataset, release_admin, monkeypatch):
    from facecommons.common.models import AuditEvent
    from facecommons.releases import build as build_module
    from facecommons.releases.models import Snapshot
    from facecommons.releases.services import snapshot_request

    make_dataset(3)
    snap = snapshot_request(actor=release_admin, enqueue=False)

    def boom(s, **kw):
        raise OSError("disk full")

    monkeypatch.setattr(build_module, "_build", boom)
    with pytest.raises(OSError):
        build_module.snapshot_build(snapshot_id=snap.pk)
    snap.refresh_from_db()
    assert snap.status == "failed" and "disk full" in snap.error
    monkeypatch.undo()
    assert build_module.snapshot_build(snapshot_id=snap.pk).status == "published"
    actions = list(AuditEvent.objects.filter(object_type="releases.snapshot", object_id=str(snap.pk))
                   .order_by("id").values_list("action", flat=True))
    assert actions == ["snapshot_requested", "snapshot_building", "snapshot_failed", "snapshot_building",
                       "snapshot_published"]
    failed = AuditEvent.objects.get(object_id=str(snap.pk), action="snapshot_failed")
    assert failed.before == {"status": "building"} and "disk full" in failed.after["error"]
    assert Snapshot.objects.get(pk=snap.pk).published_at is not None
