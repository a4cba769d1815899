"""The points ledger: credit at approval, reverse when a photo stops earning.

Everything goes through :func:`contribution_points_sync`, which compares what a contribution
*should* hold (approved, owner not withdrawn, not flagged as a duplicate, not being removed)
with what the append-only ``PointsEntry`` rows say it holds, and writes the one row that
closes the gap. Being idempotent, the same function serves the signal receivers and the
periodic reconciliation.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import IntegrityError
from django.db.models import Q, Sum
from django.utils import timezone

from facecommons.common.tunables import tunables
from facecommons.contributions.models import Contribution, ContributionStatus
from facecommons.moderation.models import ContributionFlag, FlagKind
from facecommons.rewards.ledger import in_transaction
from facecommons.rewards.models import PointsEntry
from facecommons.rewards.multipliers import TWO_PLACES, multiplier_for, multipliers_current

logger = logging.getLogger(__name__)
DUPLICATE_FLAG_KINDS = (FlagKind.NEAR_DUPLICATE, FlagKind.SAME_FACE)


def monthly_cap() -> Decimal:
    return Decimal(str(tunables.REWARDS_MONTHLY_POINT_CAP))


def contribution_is_flagged_duplicate(contribution_id: Any) -> bool:
    return ContributionFlag.objects.filter(contribution_id=contribution_id, kind__in=DUPLICATE_FLAG_KINDS,
                                           resolved=False).exists()


def month_start(now: datetime | None = None) -> datetime:
    now = timezone.localtime(now or timezone.now())
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def points_this_month(user: Any, now: datetime | None = None) -> Decimal:
    """Net points credited to ``user`` this calendar month (reversed credits free their room)."""
    start = month_start(now)
    credited = (PointsEntry.objects.filter(user=user, kind=PointsEntry.Kind.CREDIT, created_at__gte=start)
                .aggregate(s=Sum("points"))["s"] or Decimal(0))
    reversed_ = (PointsEntry.objects.filter(user=user, kind=PointsEntry.Kind.REVERSAL,
                                            reverses__created_at__gte=start)
                 .aggregate(s=Sum("points"))["s"] or Decimal(0))
    return credited - reversed_


def _open_credit(contribution_id: Any) -> PointsEntry | None:
    """The credit of this contribution that has not been reversed, if any."""
    return (PointsEntry.objects.filter(contribution_id=contribution_id, kind=PointsEntry.Kind.CREDIT,
                                       reversed_by__isnull=True).order_by("-generation").first())


def _should_earn(contribution: Contribution | None) -> tuple[bool, str]:
    if contribution is None:
        return False, "removed"
    if contribution.status != ContributionStatus.APPROVED:
        return False, f"status_{contribution.status}"
    if getattr(contribution.owner, "withdrawn_at", None) is not None:
        return False, "withdrawn"
    if contribution_is_flagged_duplicate(contribution.pk):
        return False, "duplicate_flag"
    return True, "approved"


def contribution_points_sync(*, contribution_id: uuid.UUID | str, removing: bool = False,
                             reason: str = "") -> PointsEntry | None:
    """Credit or reverse so the contribution holds exactly what it should. Returns the new row.

    ``removing``: the contribution is about to be deleted (or its owner withdraws); reverse.
    Safe to call any number of times, concurrently (row lock + unique constraint).
    """
    def _sync() -> PointsEntry | None:
        contribution = (Contribution.objects.select_for_update().select_related("owner")
                        .filter(pk=contribution_id).first())
        earn, why = (False, reason or "removed") if removing else _should_earn(contribution)
        open_credit = _open_credit(contribution_id)
        if not earn and open_credit is not None:
            return PointsEntry.objects.create(
                user_id=open_credit.user_id, contribution_id=open_credit.contribution_id,
                generation=open_credit.generation, kind=PointsEntry.Kind.REVERSAL, points=open_credit.points,
                base_points=open_credit.base_points, multiplier=open_credit.multiplier,
                categories=open_credit.categories, reason=(reason or why)[:40], reverses=open_credit)
        if earn and open_credit is None and contribution is not None:
            return _credit(contribution, reason or why)
        return None

    try:
        return in_transaction(_sync)
    except IntegrityError:
        # Someone else wrote the same row at the same moment: the state is already right.
        logger.info("points sync for %s lost a race; nothing to do", contribution_id)
        return None


def _credit(contribution: Contribution, reason: str) -> PointsEntry:
    # Two approvals of one contributor at the same moment must not both fit under the cap.
    list(type(contribution.owner).objects.select_for_update().filter(pk=contribution.owner_id).values_list("pk"))
    snapshot = multipliers_current()
    categories = contribution.effective_categories
    multiplier = multiplier_for(categories, snapshot)
    raw = (Decimal(snapshot.base_points) * multiplier).quantize(TWO_PLACES)
    room = max(Decimal(0), monthly_cap() - points_this_month(contribution.owner))
    points = min(raw, room)
    last = (PointsEntry.objects.filter(contribution_id=contribution.pk).order_by("-generation")
            .values_list("generation", flat=True).first()) or 0
    return PointsEntry.objects.create(
        user=contribution.owner, contribution_id=contribution.pk, generation=last + 1,
        kind=PointsEntry.Kind.CREDIT, points=points, base_points=snapshot.base_points, multiplier=multiplier,
        capped=points < raw, categories=categories, snapshot=snapshot, reason=reason[:40])


def points_reconcile() -> dict[str, int]:
    """Bring every contribution's points in line (periodic safety net for missed signals)."""
    done = {"credited": 0, "reversed": 0}
    approved = set(Contribution.objects.filter(status=ContributionStatus.APPROVED).values_list("pk", flat=True))
    open_ids = set(PointsEntry.objects.filter(kind=PointsEntry.Kind.CREDIT, reversed_by__isnull=True)
                   .values_list("contribution_id", flat=True))
    for cid in approved | open_ids:
        row = contribution_points_sync(contribution_id=cid, reason="reconcile")
        if row is not None:
            done["credited" if row.kind == PointsEntry.Kind.CREDIT else "reversed"] += 1
    return done


def user_points_summary(user: Any) -> dict[str, Decimal]:
    q = PointsEntry.objects.filter(user=user)
    credited = q.filter(kind=PointsEntry.Kind.CREDIT).aggregate(s=Sum("points"))["s"] or Decimal(0)
    reversed_ = q.filter(kind=PointsEntry.Kind.REVERSAL).aggregate(s=Sum("points"))["s"] or Decimal(0)
    unsettled_credits = (q.filter(kind=PointsEntry.Kind.CREDIT, payout_round__isnull=True)
                         .aggregate(s=Sum("points"))["s"] or Decimal(0))
    unsettled_reversed = (q.filter(Q(kind=PointsEntry.Kind.REVERSAL) & Q(reverses__payout_round__isnull=True))
                          .aggregate(s=Sum("points"))["s"] or Decimal(0))
    out = {"total": credited - reversed_, "since_last_round": unsettled_credits - unsettled_reversed,
           "this_month": points_this_month(user), "monthly_cap": monthly_cap()}
    return {k: Decimal(v).quantize(TWO_PLACES) for k, v in out.items()}
