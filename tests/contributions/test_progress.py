"""What a contributor can expect: points a photo would earn (before sending), the typical
review time, and their progress on My photos (issue 15, part 2)."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from facecommons.contributions.models import Contribution
from facecommons.contributions.selectors import contributor_progress, duration_words, typical_review_seconds
from tests.factories import DEFAULT_CATEGORIES, make_contribution

pytestmark = pytest.mark.django_db


def _decided(owner, minutes: float, status: str = "approved") -> Contribution:
    c = make_contribution(owner, status=status)
    now = timezone.now()
    Contribution.objects.filter(pk=c.pk).update(created_at=now - timedelta(minutes=minutes), status_changed_at=now)
    return c


def test_typical_review_time_is_the_median_of_recent_decisions(make_user):
    owner = make_user()
    for m in (30, 60, 120, 240):
        _decided(owner, m)
    assert typical_review_seconds() is None  # four decisions: too few to promise anything
    _decided(owner, 600, status="rejected")
    assert typical_review_seconds() == pytest.approx(120 * 60, abs=5)
    old = _decided(owner, 10)
    Contribution.objects.filter(pk=old.pk).update(status_changed_at=timezone.now() - timedelta(days=40))
    make_contribution(owner, status="awaiting_review")  # undecided: not counted
    assert typical_review_seconds() == pytest.approx(120 * 60, abs=5)


@pytest.mark.parametrize(("seconds", "words"), [(20, "about 1 minute"), (45 * 60, "about 45 minutes"),
                                                (2 * 3600 + 1, "about 3 hours"), (3 * 86400, "about 3 days")])
def test_waits_in_plain_words(seconds, words):
    assert duration_words(seconds) == words


def test_progress_counts_each_kind(make_user):
    owner, other = make_user(), make_user()
    for status in ("approved", "approved", "awaiting_review", "processing", "awaiting_contributor", "rejected"):
        make_contribution(owner, status=status)
    make_contribution(other, status="approved")
    assert contributor_progress(owner=owner) == {"approved": 2, "in_review": 2, "waiting_for_you": 1,
                                                 "rejected": 1, "total": 6}


def test_my_photos_shows_progress_and_the_typical_wait(make_user):
    owner = make_user()
    for m in (120, 120, 120, 120, 120):
        _decided(owner, m)
    make_contribution(owner, status="awaiting_review")
    web = Client()
    web.force_login(owner)
    page = web.get("/my/photos/").content.decode()
    assert '<progress id="approved-progress" max="6" value="5">' in page
    assert "5 of your 6 photos approved" in page and "Moderators usually decide within about 2 hours." in page


def test_points_estimate_follows_the_crediting_rule(make_user, settings):
    from facecommons.rewards.multipliers import multiplier_for, multipliers_current

    settings.REWARDS_BASE_POINTS = 10
    contributor = make_user()
    for _ in range(3):
        make_contribution(make_user(), status="approved", categories={**DEFAULT_CATEGORIES, "gender": "woman"})
    make_contribution(make_user(), status="approved", categories={**DEFAULT_CATEGORIES, "gender": "man"})
    web = Client()
    web.force_login(contributor)
    cats = {**DEFAULT_CATEGORIES, "gender": "man"}
    body = web.get("/rewards/estimate/", {"categories": json.dumps(cats)}).json()
    expected = multiplier_for(cats, multipliers_current())
    assert expected > 1 and Decimal(body["multiplier"]) == expected
    assert Decimal(body["points"]) == 10 * expected and body["points"].rstrip("0") in body["text"].replace(",", ".")
    common = web.get("/rewards/estimate/", {"categories": json.dumps({"gender": "woman"})}).json()
    assert Decimal(common["points"]) < Decimal(body["points"])
    assert web.get("/rewards/estimate/", {"categories": "[1]"}).status_code == 400
    assert web.get("/rewards/estimate/", {"categories": "{" * 3000}).status_code == 400
    web.post("/rewards/choice/", {"choice": "decline"})
    declined = web.get("/rewards/estimate/", {"categories": json.dumps(cats)}).json()
    assert declined["declined"] is True and "points" not in declined
    assert Client().get("/rewards/estimate/").status_code == 302  # log in first


def test_upload_page_says_what_to_expect(make_user):
    contributor = make_user()  # consented
    for _ in range(5):
        _decided(make_user(), 3 * 24 * 60)
    web = Client()
    web.force_login(contributor)
    page = web.get("/upload/").content.decode()
    assert 'id="points-estimate" data-url="/rewards/estimate/"' in page and "contributions/estimate.js" in page
    assert "Moderators usually decide within about 3 days." in page
