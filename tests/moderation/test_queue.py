"""The queue: leases, expiry, order, and concurrent moderators never holding the same photo."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from facecommons.moderation.models import ReviewLease
from facecommons.moderation.services import ModerationError, queue_lease_next, review_decide
from tests.factories import DEFAULT_CATEGORIES, make_contribution


@pytest.mark.django_db
def test_lease_blocks_others_until_it_expires(mods, contributor):
    c = make_contribution(contributor)
    assert queue_lease_next(moderator=mods[0]).pk == c.pk
    assert queue_lease_next(moderator=mods[1]) is None
    ReviewLease.objects.filter(contribution=c).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert queue_lease_next(moderator=mods[1]).pk == c.pk
    with pytest.raises(ModerationError) as e:
        review_decide(moderator=mods[0], contribution=c, decision="approve")
    assert e.value.code == "not_leased"
    assert review_decide(moderator=mods[1], contribution=c, decision="approve").outcome == "pending"


@pytest.mark.django_db
@override_settings(MODERATION_LEASE_SECONDS=0)
def test_zero_lease_expires_at_once(mods, contributor):
    c = make_contribution(contributor)
    assert queue_lease_next(moderator=mods[0]).pk == c.pk
    assert queue_lease_next(moderator=mods[1]).pk == c.pk


@pytest.mark.django_db
def test_own_expired_lease_still_lets_you_decide(mods, contributor):
    c = make_contribution(contributor)
    queue_lease_next(moderator=mods[0])
    ReviewLease.objects.filter(contribution=c).update(expires_at=timezone.now() - timedelta(seconds=5))
    assert review_decide(moderator=mods[0], contribution=c, decision="approve").outcome == "pending"


@pytest.mark.django_db
def test_queue_order_oldest_and_scarcest(mods, contributor, make_user):
    approver = make_user()
    for _ in range(3):
        make_contribution(approver, status="approved", categories={**DEFAULT_CATEGORIES, "skin_tone": "8"})
    make_contribution(approver, status="approved", categories={**DEFAULT_CATEGORIES, "skin_tone": "1"})
    common = make_contribution(contributor, categories={**DEFAULT_CATEGORIES, "skin_tone": "8"})
    scarce = make_contribution(contributor, categories={**DEFAULT_CATEGORIES, "skin_tone": "2"})
    assert queue_lease_next(moderator=mods[0]).pk == common.pk  # oldest first by default
    with override_settings(MODERATION_QUEUE_ORDER="scarcest"):
        assert queue_lease_next(moderator=mods[1], exclude_ids=[]).pk == scarce.pk


@pytest.mark.django_db
def test_non_moderator_cannot_lease(contributor):
    with pytest.raises(ModerationError) as e:
        queue_lease_next(moderator=contributor)
    assert e.value.status == 403


def _race(mods, n_photos):
    """Each moderator thread leases until the queue is empty for them; return their leases."""
    results = {m.pk: [] for m in mods}
    errors = []
    barrier = threading.Barrier(len(mods))

    def work(m):
        try:
            barrier.wait()
            while True:
                c = queue_lease_next(moderator=m, exclude_ids=[x for x in results[m.pk]])
                if c is None:
                    break
                results[m.pk].append(c.pk)
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(m,)) for m in mods]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    return results


def _check_race(make_user, n_mods, n_photos):
    owner = make_user()
    mods = [make_user(role="moderator") for _ in range(n_mods)]
    photos = {make_contribution(owner).pk for _ in range(n_photos)}
    results = _race(mods, n_photos)
    leased = [pk for got in results.values() for pk in got]
    assert len(leased) == len(set(leased)), "a photo was leased to two moderators"
    assert set(leased) == photos
    assert ReviewLease.objects.count() == n_photos
    held = dict(ReviewLease.objects.values_list("contribution_id", "moderator_id"))
    for mid, got in results.items():
        assert all(held[pk] == mid for pk in got)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_moderators_postgres(make_user):
    if connection.vendor != "postgresql":
        pytest.skip("real concurrent SELECT … FOR UPDATE SKIP LOCKED needs PostgreSQL (DATABASE_URL); "
                    "SQLite has its own test below")
    _check_race(make_user, n_mods=8, n_photos=60)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_concurrent_moderators_sqlite(make_user):
    if connection.vendor != "sqlite":
        pytest.skip("the SQLite variant of the race (conditional lease writes without SKIP LOCKED)")
    _check_race(make_user, n_mods=3, n_photos=12)
