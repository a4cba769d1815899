"""Points through the real moderation flow: consensus of two moderators, one correcting."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone

from facecommons.rewards.models import PointsEntry
from tests.factories import make_contribution
from tests.rewards.conftest import cats

pytestmark = pytest.mark.django_db


def review(moderator, c, decision, categories=None):
    from facecommons.moderation.services import lease_take, review_decide

    assert lease_take(moderator=moderator, contribution_id=c.pk, now=timezone.now())
    return review_decide(moderator=moderator, contribution=c, decision=decision, categories=categories)


def test_consensus_with_a_correction_earns_the_corrected_value(seed_dataset, make_user,
                                                              django_capture_on_commit_callbacks, settings):
    settings.MODERATION_CONSENSUS = 2
    seed_dataset({"white": 9, "black": 3})
    m1, m2 = make_user(role="moderator"), make_user(role="moderator")
    gamer = make_contribution(make_user(), categories=cats(ethnicity=["indigenous"]))
    honest = make_contribution(make_user(), categories=cats(ethnicity=["black"]))
    with django_capture_on_commit_callbacks(execute=True):
        review(m1, gamer, "correct", {"ethnicity": ["white"]})
        assert not PointsEntry.objects.exists()  # one approval is not consensus
        review(m2, gamer, "approve")
        review(m1, honest, "approve")
        review(m2, honest, "approve")
    gamer.refresh_from_db()
    assert gamer.status == "approved" and gamer.corrected_categories == {"ethnicity": ["white"]}
    assert PointsEntry.objects.get(contribution_id=gamer.pk).points == Decimal("10.00")
    assert PointsEntry.objects.get(contribution_id=honest.pk).points == Decimal("30.00")
