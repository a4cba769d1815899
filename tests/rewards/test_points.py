"""Points: credited on approval at the published multiplier, reversed when a photo stops earning."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone

from facecommons.moderation.abuse import flag_raise
from facecommons.moderation.models import ContributionFlag
from facecommons.moderation.services import flag_resolve
from facecommons.rewards.models import PointsEntry
from facecommons.rewards.multipliers import multiplier_for, multipliers_current
from facecommons.rewards.points import contribution_points_sync, user_points_summary
from tests.factories import make_contribution
from tests.rewards.conftest import cats

pytestmark = pytest.mark.django_db


def net_points(contribution):
    rows = PointsEntry.objects.filter(contribution_id=contribution.pk)
    credit = sum(r.points for r in rows if r.kind == "credit")
    rev = sum(r.points for r in rows if r.kind == "reversal")
    return credit - rev


def test_multiplier_is_inverse_share_normalised_and_capped(seed_dataset, settings):
    snap = seed_dataset({"white": 9, "black": 3, "east_asian": 1})
    eth = snap.data["ethnicity"]
    assert Decimal(eth["white"]) == 1
    assert Decimal(eth["black"]) == 3
    assert Decimal(eth["east_asian"]) == 5  # 9x rarer, capped at REWARDS_MAX_MULTIPLIER=5
    assert Decimal(eth["indigenous"]) == 5  # nobody yet: the cap
    assert "prefer_not_to_say" not in eth and "self_describe" not in eth  # no premium for unverifiable values
    # every seeded photo shares the other categories: those are neutral
    assert Decimal(snap.data["gender"]["woman"]) == 1
    settings.REWARDS_MAX_MULTIPLIER = 20
    snap2 = multipliers_current()  # cap changed: recomputed
    assert Decimal(snap2.data["ethnicity"]["east_asian"]) == 9


def test_photo_multiplier_combines_scarcest_category_and_most_common_declared_value(seed_dataset):
    snap = seed_dataset({"white": 9, "black": 3})
    assert multiplier_for(cats(ethnicity=["black"]), snap) == 3
    # adding a rarer extra value never raises what a photo earns
    assert multiplier_for(cats(ethnicity=["black", "indigenous"]), snap) == 3
    assert multiplier_for(cats(ethnicity=["white"]), snap) == 1
    assert multiplier_for(cats(ethnicity=["prefer_not_to_say"]), snap) == 1
    # the scarcest category wins: a rare gender value
    assert multiplier_for(cats(ethnicity=["white"], gender="man"), snap) == 5


def test_approval_credits_base_times_frozen_multiplier(seed_dataset, approved, make_user):
    seed_dataset({"white": 9, "black": 3})
    user = make_user()
    c = approved(user, cats(ethnicity=["black"]))
    entry = PointsEntry.objects.get(contribution_id=c.pk)
    assert (entry.kind, entry.points, entry.multiplier, entry.base_points) == ("credit", Decimal("30.00"), 3, 10)
    # The multiplier is frozen: a later change of the dataset does not touch the row.
    owner = make_user()
    for _ in range(20):
        make_contribution(owner, status="approved", categories=cats(ethnicity=["black"]))
    multipliers_current(refresh=True)
    entry.refresh_from_db()
    assert entry.points == Decimal("30.00")


def test_declaring_scarce_value_that_moderators_correct_earns_nothing_extra(seed_dataset, approved, make_user):
    seed_dataset({"white": 9, "black": 3})
    honest = approved(make_user(), cats(ethnicity=["white"]))
    gamer = approved(make_user(), cats(ethnicity=["indigenous"]), corrected={"ethnicity": ["white"]})
    truthful_scarce = approved(make_user(), cats(ethnicity=["indigenous"]))
    assert net_points(honest) == Decimal("10.00")
    assert net_points(gamer) == Decimal("10.00")  # nothing extra for the corrected declaration
    assert net_points(truthful_scarce) == Decimal("50.00")


def test_rejection_after_approval_reverses_and_reapproval_credits_again(approved, transition, make_user):
    c = approved(make_user())
    assert net_points(c) > 0
    transition(c, "rejected")
    assert net_points(c) == 0
    assert PointsEntry.objects.filter(contribution_id=c.pk, kind="reversal").count() == 1
    transition(c, "approved")
    assert net_points(c) > 0
    assert PointsEntry.objects.filter(contribution_id=c.pk, kind="credit").count() == 2


def test_sync_is_idempotent(approved, make_user):
    c = approved(make_user())
    for _ in range(3):
        assert contribution_points_sync(contribution_id=c.pk) is None
    assert PointsEntry.objects.filter(contribution_id=c.pk).count() == 1


def test_deletion_reverses(approved, make_user):
    from facecommons.contributions.services import contribution_delete

    c = approved(make_user())
    cid = c.pk
    contribution_delete(contribution=c)
    rows = PointsEntry.objects.filter(contribution_id=cid)
    assert sorted(rows.values_list("kind", flat=True)) == ["credit", "reversal"]
    assert rows.get(kind="reversal").reason == "removed"


def test_withdrawal_reverses_points(approved, make_user):
    from facecommons.accounts.services import account_withdraw

    user = make_user()
    a, b = approved(user), approved(user)
    other = approved(make_user())
    account_withdraw(user=user)
    assert net_points(a) == 0 and net_points(b) == 0
    assert PointsEntry.objects.filter(contribution_id=a.pk, kind="reversal").get().reason == "withdrawn"
    assert net_points(other) > 0
    assert user_points_summary(user)["total"] == 0


def test_monthly_cap(approved, make_user, settings):
    settings.REWARDS_MONTHLY_POINT_CAP = 25
    user = make_user()
    rows = [PointsEntry.objects.get(contribution_id=approved(user).pk) for _ in range(4)]
    assert [r.points for r in rows] == [Decimal(10), Decimal(10), Decimal(5), Decimal(0)]
    assert [r.capped for r in rows] == [False, False, True, True]
    # other contributors have their own cap
    assert PointsEntry.objects.get(contribution_id=approved(make_user()).pk).points == 10


def test_month_boundary_resets_cap(approved, make_user, settings):
    settings.REWARDS_MONTHLY_POINT_CAP = 10
    user = make_user()
    first = PointsEntry.objects.get(contribution_id=approved(user).pk)
    PointsEntry.objects.filter(pk=first.pk).update(created_at=timezone.now() - timezone.timedelta(days=40))
    assert PointsEntry.objects.get(contribution_id=approved(user).pk).points == 10


def test_only_approved_photos_earn(transition, make_user):
    c = make_contribution(make_user(), status="awaiting_review")
    transition(c, "rejected")
    assert not PointsEntry.objects.filter(contribution_id=c.pk).exists()


def test_near_duplicate_flagged_photo_earns_nothing(approved, make_user, transition):
    user = make_user()
    moderator = make_user(role="moderator")
    c = make_contribution(user, status="awaiting_review")
    flag_raise(c, "near_duplicate", None, 2.0, {})
    transition(c, "approved")
    assert net_points(c) == 0
    # a same-face flag raised after crediting reverses (flag_changed reaches rewards)
    d = approved(user)
    assert net_points(d) > 0
    assert flag_raise(d, "same_face", c.pk, 0.3, {})
    assert net_points(d) == 0
    # resolving it (not a duplicate after all) lets the approved photo earn
    flag_resolve(admin=moderator, flag=ContributionFlag.objects.get(contribution=d))
    assert net_points(d) > 0


def test_points_reconcile_repairs_missed_signals(make_user):
    from facecommons.rewards.points import points_reconcile

    c = make_contribution(make_user(), status="approved")  # approved without the signal
    assert points_reconcile() == {"credited": 1, "reversed": 0}
    assert net_points(c) > 0
    assert points_reconcile() == {"credited": 0, "reversed": 0}
