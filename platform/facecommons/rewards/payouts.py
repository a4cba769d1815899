"""Payout rounds: split the pool in proportion to points, exactly, once per period."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Hashable
from decimal import Decimal
from typing import Any, TypeVar

from django.contrib.auth import get_user_model
from django.db import IntegrityError
from django.utils import timezone

from facecommons.common.audit import audit_record
from facecommons.common.tunables import tunables
from facecommons.rewards.ledger import (
    account_balance,
    account_payable,
    account_system,
    accounts_payable_bulk,
    currency_default,
    in_transaction,
    ledger_post,
)
from facecommons.rewards.models import (
    Account,
    AccountKind,
    PayoutLine,
    PayoutRound,
    PointsEntry,
    RewardsProfile,
    Transaction,
    format_minor,
)

K = TypeVar("K", bound=Hashable)


def largest_remainder(total: int, weights: dict[K, int]) -> dict[K, int]:
    """Split ``total`` (integer) in proportion to integer ``weights``; the parts sum to ``total``.

    Each part gets the floor of its exact share; the cents left over go one each to the
    largest fractional remainders (ties: larger weight first, then key order), so no cent is
    created or lost and no part differs from its exact share by a whole cent or more.
    """
    if total < 0 or any(w < 0 for w in weights.values()):
        raise ValueError("total and weights must be non-negative")
    weight_sum = sum(weights.values())
    if weight_sum == 0 or total == 0:
        return {k: 0 for k in weights}
    parts = {k: total * w // weight_sum for k, w in weights.items()}
    left = total - sum(parts.values())
    order = sorted(weights, key=lambda k: (-(total * weights[k] % weight_sum), -weights[k], str(k)))
    for k in order[:left]:
        parts[k] += 1
    return parts


def period_current() -> str:
    return timezone.localtime().strftime("%Y-%m")


def _excluded_user_ids(user_ids: set[int]) -> set[int]:
    """Who does not take part: declined rewards, or withdrew consent."""
    declined = set(RewardsProfile.objects.filter(user_id__in=user_ids, declined=True).values_list("user_id", flat=True))
    withdrawn = set(get_user_model().objects.filter(pk__in=user_ids, withdrawn_at__isnull=False)
                    .values_list("pk", flat=True))
    return declined | withdrawn


def payout_round_run(*, started_by: Any | None = None, period: str | None = None) -> PayoutRound:
    """Run the payout round of ``period`` (default: this month) once; a second call returns it.

    Under a lock on the pool account row: settle every points entry not yet settled (created up
    to now), weigh each taking-part contributor by their net points (in hundredths), split
    ``REWARDS_PAYOUT_PERCENT`` of the pool with :func:`largest_remainder` and move it pool ->
    contributor payable in one transaction. Points of contributors who declined rewards or
    withdrew are settled without a line, so they neither dilute others nor pay out later. A
    reversal of a credit an earlier round settled changes nothing: paid money is never clawed
    back. Concurrent starts serialise on the lock; the unique ``period`` is the backstop.
    """
    currency = currency_default()
    period = period or period_current()
    pool = account_system(AccountKind.POOL, currency)
    account_system(AccountKind.DONATIONS, currency)

    def _run() -> PayoutRound:
        Account.objects.select_for_update().get(pk=pool.pk)
        existing = PayoutRound.objects.filter(period=period).first()
        if existing is not None:
            return existing
        cutoff = timezone.now()
        rows = list(PointsEntry.objects.filter(payout_round__isnull=True, created_at__lte=cutoff)
                    .values_list("id", "kind", "user_id", "points", "reverses_id"))
        credit_ids = {r[0] for r in rows if r[1] == PointsEntry.Kind.CREDIT}
        net: dict[int, Decimal] = defaultdict(Decimal)
        for _id, kind, user_id, points, reverses_id in rows:
            if user_id is None:
                continue
            if kind == PointsEntry.Kind.CREDIT:
                net[user_id] += points
            elif reverses_id in credit_ids:  # reversal of an unsettled credit: they cancel
                net[user_id] -= points
        excluded = _excluded_user_ids(set(net))
        weights = {uid: int(p * 100) for uid, p in net.items() if uid not in excluded and p > 0}
        pool_before = account_balance(pool)
        percent = tunables.REWARDS_PAYOUT_PERCENT
        distributable = max(0, pool_before) * max(0, min(100, percent)) // 100
        shares = largest_remainder(distributable if weights else 0, weights)
        tx: Transaction | None = None
        paying = {uid: amt for uid, amt in shares.items() if amt > 0}
        users = get_user_model().objects.in_bulk(list(weights))
        if paying:
            legs = [(pool, -sum(paying.values()))]
            payable = accounts_payable_bulk([users[uid] for uid in paying], currency)
            legs += [(payable[uid], amt) for uid, amt in sorted(paying.items())]
            tx = ledger_post(kind=Transaction.Kind.ALLOCATION, legs=legs, created_by=started_by,
                             memo=f"payout round {period}")
        rnd = PayoutRound.objects.create(
            period=period, currency=currency, started_by=started_by if getattr(started_by, "is_authenticated", False) else None,
            cutoff=cutoff, pool_before_minor=pool_before, distributed_minor=sum(paying.values()),
            total_points=Decimal(sum(weights.values())) / 100, transaction=tx)
        PayoutLine.objects.bulk_create([
            PayoutLine(round=rnd, user_id=uid, pseudonym=users[uid].pseudonym, points=Decimal(w) / 100,
                       amount_minor=shares[uid])
            for uid, w in sorted(weights.items())])
        ids = [r[0] for r in rows]
        for i in range(0, len(ids), 500):
            PointsEntry.objects.filter(id__in=ids[i:i + 500]).update(payout_round=rnd)
        audit_record(actor=started_by, action="payout_round_run", obj=rnd,
                     after={"period": period, "distributed_minor": rnd.distributed_minor,
                            "lines": len(weights), "pool_before_minor": pool_before})
        return rnd

    try:
        return in_transaction(_run)
    except IntegrityError:
        # Lost the race on the unique period (databases without row locks): the round exists.
        return PayoutRound.objects.get(period=period)


def payout_round_mark_paid(*, payout_round: PayoutRound, paid_by: Any | None) -> PayoutRound:
    """Record that whoever pays people out has paid the pending lines: payable -> paid out."""
    def _pay() -> PayoutRound:
        rnd = PayoutRound.objects.select_for_update().get(pk=payout_round.pk)
        if rnd.paid_at is not None:
            return rnd
        lines = list(rnd.lines.select_related("user").filter(status=PayoutLine.Status.PENDING, amount_minor__gt=0))
        if lines:
            legs = [(account_payable(line.user, rnd.currency), -line.amount_minor) for line in lines if line.user]
            total = -sum(a for _, a in legs)
            if total:
                ledger_post(kind=Transaction.Kind.PAYMENT,
                            legs=[*legs, (account_system(AccountKind.PAID_OUT, rnd.currency), total)],
                            created_by=paid_by, memo=f"paid round {rnd.period}")
        now = timezone.now()
        rnd.lines.filter(status=PayoutLine.Status.PENDING).update(status=PayoutLine.Status.PAID, status_changed_at=now)
        rnd.paid_at = now
        rnd.paid_by = paid_by if getattr(paid_by, "is_authenticated", False) else None
        rnd.save(update_fields=["paid_at", "paid_by"])
        audit_record(actor=paid_by, action="payout_round_paid", obj=rnd, after={"lines": len(lines)})
        return rnd

    return in_transaction(_pay)


def payout_round_csv(payout_round: PayoutRound, *, exported_by: Any | None = None) -> str:
    """CSV for whoever pays people out (contains email addresses: the export is audit-logged)."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["round", "line_id", "pseudonym", "email", "points", "amount_minor", "amount", "currency", "status"])
    for line in payout_round.lines.select_related("user").order_by("id"):
        w.writerow([payout_round.period, line.pk, line.pseudonym, line.user.email if line.user else "",
                    line.points, line.amount_minor, format_minor(line.amount_minor, payout_round.currency).split()[0],
                    payout_round.currency, line.status])
    audit_record(actor=exported_by, action="payout_round_export", obj=payout_round)
    return buf.getvalue()
