"""The one claim-with-lease helper (common.leases) on a real queue-like table: evaluation chunks."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from facecommons.common.leases import (
    Heartbeat,
    LeaseLost,
    lease_claim,
    lease_expired_q,
    lease_release,
    lease_renew,
)
from facecommons.evaluation.models import ChunkStatus, EvaluationChunk, EvaluationRun


def _chunk() -> EvaluationChunk:
    run = EvaluationRun.objects.create(scope="current", scope_key=f"lease-test-{time.monotonic_ns()}")
    return EvaluationChunk.objects.create(run=run, index=0, start=0, stop=1)


def _pending():
    return EvaluationChunk.objects.filter(status=ChunkStatus.PENDING)


def _expire(chunk: EvaluationChunk) -> None:
    EvaluationChunk.objects.filter(pk=chunk.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))


@pytest.mark.django_db
def test_one_claim_at_a_time_and_the_fence_moves_on_takeover():
    chunk = _chunk()
    first = lease_claim(_pending(), pk=chunk.pk, seconds=30)
    assert first is not None and first.attempt == 1 and first.fence == {"attempts": 1}
    assert lease_claim(_pending(), pk=chunk.pk, seconds=30) is None  # the lease is live
    assert lease_renew(first)
    _expire(chunk)  # the first worker died
    assert EvaluationChunk.objects.filter(lease_expired_q(), pk=chunk.pk).exists()
    second = lease_claim(_pending(), pk=chunk.pk, seconds=30)
    assert second is not None and second.attempt == 2
    # The dead worker's claim can neither renew nor release the new one.
    assert not lease_renew(first) and not lease_release(first)
    chunk.refresh_from_db()
    assert second.holds(chunk) and not first.holds(chunk)
    assert chunk.lease_expires_at > timezone.now() + timedelta(seconds=25)
    assert lease_release(second)  # given up: the next claim need not wait
    third = lease_claim(_pending(), pk=chunk.pk, seconds=30, set={"computed": 7})
    assert third is not None and third.attempt == 3
    chunk.refresh_from_db()
    assert chunk.computed == 7 and chunk.attempts == 3


@pytest.mark.django_db
def test_claimable_filter_and_token_fence(make_user):
    from facecommons.pipeline.models import PhotoAnalysis
    from tests.factories import make_contribution

    chunk = _chunk()
    EvaluationChunk.objects.filter(pk=chunk.pk).update(status=ChunkStatus.DONE)
    assert lease_claim(_pending(), pk=chunk.pk, seconds=30) is None  # done chunks are never claimed
    analysis = PhotoAnalysis.objects.create(contribution=make_contribution(make_user(), status="received"))
    first = lease_claim(PhotoAnalysis.objects.all(), pk=analysis.pk, seconds=30, fence_column="claim_token")
    assert first is not None and len(first.token) == 32
    PhotoAnalysis.objects.filter(pk=analysis.pk).update(lease_expires_at=timezone.now())
    second = lease_claim(PhotoAnalysis.objects.all(), pk=analysis.pk, seconds=30, fence_column="claim_token")
    assert second is not None and second.token != first.token
    analysis.refresh_from_db()
    assert analysis.claim_token == second.token and second.holds(analysis) and not first.holds(analysis)
    # The same columns as before the mixin (no migration): the pipeline's expiry keeps its index.
    assert PhotoAnalysis._meta.get_field("lease_expires_at").db_index
    assert not EvaluationChunk._meta.get_field("lease_expires_at").db_index


@pytest.mark.django_db
def test_heartbeat_in_the_work_loop_inside_a_transaction():
    """Inside an outer transaction no thread starts (another connection could not see the row);
    beat() from the work loop renews instead, and check() raises once the claim is lost."""
    chunk = _chunk()
    lease = lease_claim(_pending(), pk=chunk.pk, seconds=30)
    assert lease is not None
    with Heartbeat(lambda: lease_renew(lease), every=0.05) as beat:
        assert beat._thread is None
        before = EvaluationChunk.objects.get(pk=chunk.pk).lease_expires_at
        time.sleep(0.06)
        beat.check()
        assert beat.beats == 1 and EvaluationChunk.objects.get(pk=chunk.pk).lease_expires_at > before
        _expire(chunk)
        assert lease_claim(_pending(), pk=chunk.pk, seconds=30) is not None  # taken over
        time.sleep(0.06)
        with pytest.raises(LeaseLost):
            beat.check()


@pytest.mark.django_db(transaction=True)
def test_heartbeat_thread_keeps_a_short_lease_alive_and_sees_a_takeover():
    chunk = _chunk()
    lease = lease_claim(_pending(), pk=chunk.pk, seconds=1.5)
    assert lease is not None
    with Heartbeat(lambda: lease_renew(lease), every=0.3) as beat:
        assert beat._thread is not None
        time.sleep(2.5)  # the work, with no call into the heartbeat: longer than the lease
        connection.close()
        assert lease_claim(_pending(), pk=chunk.pk, seconds=30) is None, "the heartbeat let the lease lapse"
        assert beat.beats >= 5 and not beat.lost
        _expire(chunk)
        taker = lease_claim(_pending(), pk=chunk.pk, seconds=30)
        assert taker is not None
        deadline = time.monotonic() + 5
        while not beat.lost and time.monotonic() < deadline:
            time.sleep(0.05)
        assert beat.lost
        with pytest.raises(LeaseLost):
            beat.check()
    chunk.refresh_from_db()
    assert taker.holds(chunk)  # the lost heartbeat did not renew the new owner's lease
