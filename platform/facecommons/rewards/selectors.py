"""Reads for pages and the API."""

from __future__ import annotations

from typing import Any

from django.db.models import Sum
from django.utils.translation import gettext, gettext_lazy

from facecommons.contributions.models import ContributionStatus
from facecommons.rewards.ledger import account_balance, currency_default, ledger_totals
from facecommons.rewards.models import Account, AccountKind, Donation, Entry, PayoutLine, PointsEntry, format_minor
from facecommons.rewards.points import user_points_summary
from facecommons.rewards.services import rewards_declined

# Why points were credited or reversed (PointsEntry.reason), as the contributor reads it.
POINTS_REASONS = {
    "approved": gettext_lazy("Photo approved"),
    "removed": gettext_lazy("Photo deleted"),
    "withdrawn": gettext_lazy("Consent withdrawn"),
    "duplicate_flag": gettext_lazy("Marked as a possible duplicate"),
    "flag_resolved": gettext_lazy("Duplicate check cleared"),
    "reconcile": gettext_lazy("Corrected by a regular check"),
}


def points_reason_label(reason: str) -> str:
    if reason in POINTS_REASONS:
        return str(POINTS_REASONS[reason])
    if reason.startswith("status_"):
        status = reason.removeprefix("status_")
        label = ContributionStatus(status).label if status in ContributionStatus.values else status
        return gettext("The photo is no longer approved (%(status)s)") % {"status": label}
    return reason


def money(amount_minor: int, currency: str) -> dict[str, Any]:
    return {"amount_minor": amount_minor, "currency": currency, "display": format_minor(amount_minor, currency)}


def user_rewards(user: Any, *, history_limit: int = 100) -> dict[str, Any]:
    currency = currency_default()
    acct = Account.objects.filter(kind=AccountKind.PAYABLE, user=user, currency=currency).first()
    balance = account_balance(acct) if acct else 0
    paid = 0
    if acct:
        paid = -int(Entry.objects.filter(account=acct, amount_minor__lt=0, transaction__kind="payment")
                    .aggregate(s=Sum("amount_minor"))["s"] or 0)
    points = user_points_summary(user)
    history = [
        {"kind": e.kind, "kind_label": e.get_kind_display(), "points": str(e.points),
         "multiplier": str(e.multiplier), "capped": e.capped, "reason": e.reason,
         "reason_label": points_reason_label(e.reason), "contribution_id": str(e.contribution_id),
         "created_at": e.created_at.isoformat(), "created": e.created_at,
         "settled_in_round": e.payout_round.period if e.payout_round else None}
        for e in PointsEntry.objects.filter(user=user).select_related("payout_round")[:history_limit]
    ]
    lines = [
        {"round": ln.round.period, "points": str(ln.points), **money(ln.amount_minor, ln.round.currency),
         "status": ln.status, "status_label": ln.get_status_display()}
        for ln in PayoutLine.objects.filter(user=user).select_related("round").order_by("-round__started_at")
    ]
    return {
        "declined": rewards_declined(user),
        "points": {k: str(v) for k, v in points.items()},
        "balance": money(balance, currency),
        "paid_out": money(paid, currency),
        "history": history,
        "payouts": lines,
    }


def donation_overview() -> dict[str, Any]:
    currency = currency_default()
    totals = ledger_totals(currency)
    recent = [{"donor": d.display_donor, **money(d.amount_minor, d.currency), "provider": d.provider,
               "received_at": d.received_at}
              for d in Donation.objects.all()[:10]]
    return {
        "currency": currency,
        "pool": money(totals[AccountKind.POOL], currency),
        "donated": money(-totals[AccountKind.DONATIONS], currency),
        "allocated_unpaid": money(totals[AccountKind.PAYABLE], currency),
        "paid_out": money(totals[AccountKind.PAID_OUT], currency),
        "donations_count": Donation.objects.count(),
        "recent": recent,
    }
