"""Rewards services: donations, the decline toggle, and what withdrawal does to money."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import IntegrityError
from django.utils import timezone

from facecommons.common.audit import audit_record
from facecommons.rewards.ledger import (
    LedgerError,
    account_balance,
    account_payable,
    account_system,
    check_amount,
    currency_default,
    in_transaction,
    ledger_post,
)
from facecommons.rewards.models import Account, AccountKind, Donation, PayoutLine, RewardsProfile, Transaction


def donation_record(*, provider: str, amount_minor: int, currency: str | None = None, donor_name: str = "",
                    anonymous: bool = False, reference: str = "", received_at: datetime | None = None,
                    recorded_by: Any | None = None) -> Donation:
    """Record a received donation: donors -> pool. Called by payment providers, not views.

    Only the platform currency (``REWARDS_CURRENCY``) is accepted: the pool is split in one
    currency and there is no exchange-rate source to convert honestly.
    """
    amount_minor = check_amount(amount_minor)
    currency = (currency or currency_default()).strip().upper()
    if currency != currency_default():
        raise LedgerError("invalid", f"Only {currency_default()} donations can be recorded (got {currency}).")
    reference = (reference or "").strip()
    if reference and Donation.objects.filter(provider=provider, reference=reference).exists():
        raise LedgerError("invalid", f"A {provider} donation with reference {reference!r} is already recorded.")

    def _record() -> Donation:
        tx = ledger_post(kind=Transaction.Kind.DONATION, created_by=recorded_by,
                         memo=f"donation via {provider}",
                         legs=[(account_system(AccountKind.DONATIONS, currency), -amount_minor),
                               (account_system(AccountKind.POOL, currency), amount_minor)])
        donation = Donation.objects.create(
            provider=provider, amount_minor=amount_minor, currency=currency, donor_name=donor_name.strip()[:200],
            anonymous=anonymous, reference=reference, received_at=received_at or timezone.now(),
            recorded_by=recorded_by if getattr(recorded_by, "is_authenticated", False) else None, transaction=tx)
        audit_record(actor=recorded_by, action="donation_record", obj=donation,
                     after={"amount_minor": amount_minor, "currency": currency, "provider": provider})
        return donation

    try:
        return in_transaction(_record)
    except IntegrityError as exc:
        raise LedgerError("invalid", f"A {provider} donation with reference {reference!r} is already recorded.") from exc


def rewards_set_declined(*, user: Any, declined: bool) -> RewardsProfile:
    """Decline or accept rewards. Points earned while declined are never paid (see payouts)."""
    profile, _ = RewardsProfile.objects.get_or_create(user=user)
    if profile.declined != declined:
        profile.declined = declined
        profile.changed_at = timezone.now()
        profile.save(update_fields=["declined", "changed_at"])
        audit_record(actor=user, action="rewards_declined" if declined else "rewards_accepted", obj=profile)
    return profile


def rewards_declined(user: Any) -> bool:
    return RewardsProfile.objects.filter(user=user, declined=True).exists()


def payable_forfeit(*, user: Any, reason: str = "withdrawn") -> int:
    """Move a contributor's unpaid balance back to the pool; returns the amount (minor units).

    Used on withdrawal: we keep no way to pay a person who asked us to forget them, so money
    allocated but not yet paid returns to the pool for the next round. Paid money is final.
    """
    def _forfeit() -> int:
        total = 0
        for acct in Account.objects.select_for_update().filter(kind=AccountKind.PAYABLE, user=user):
            balance = account_balance(acct)
            if balance > 0:
                ledger_post(kind=Transaction.Kind.FORFEIT, memo=f"forfeit: {reason}",
                            legs=[(acct, -balance), (account_system(AccountKind.POOL, acct.currency), balance)])
                total += balance
        PayoutLine.objects.filter(user=user, status=PayoutLine.Status.PENDING).update(
            status=PayoutLine.Status.FORFEITED, status_changed_at=timezone.now())
        if total:
            audit_record(actor=None, action="rewards_forfeit", object_type="accounts.user", object_id=str(user.pk),
                         after={"amount_minor": total, "reason": reason})
        return total

    return in_transaction(_forfeit)


__all__ = ["donation_record", "payable_forfeit", "rewards_declined", "rewards_set_declined", "account_payable"]
