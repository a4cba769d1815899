"""The double-entry money ledger: accounts, balanced transactions, balances."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Sum

from facecommons.common.db import atomic_write as in_transaction  # noqa: F401  (re-exported: the one helper)
from facecommons.common.errors import ServiceError
from facecommons.common.tunables import tunables
from facecommons.rewards.models import Account, AccountKind, Entry, Transaction

MAX_AMOUNT_MINOR = 10**13  # 100 billion units: far above any real donation, far below BIGINT


class LedgerError(ServiceError):
    """A refused money movement (bad amount, unbalanced or duplicate transaction)."""


def currency_default() -> str:
    return tunables.REWARDS_CURRENCY.upper()


def check_amount(value: Any, *, name: str = "amount_minor", allow_zero: bool = False) -> int:
    """An integer number of minor units; floats, strings and booleans are refused."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise LedgerError("invalid", f"{name} must be an integer number of minor units (cents), not {type(value).__name__}.")
    if value < 0 or (value == 0 and not allow_zero):
        raise LedgerError("invalid", f"{name} must be positive.")
    if value > MAX_AMOUNT_MINOR:
        raise LedgerError("invalid", f"{name} is too large.")
    return value


def account_system(kind: str, currency: str | None = None) -> Account:
    """The pool / donations / paid-out account of a currency (created on first use)."""
    if kind == AccountKind.PAYABLE:
        raise LedgerError("invalid", "payable accounts belong to a user; use account_payable")
    currency = (currency or currency_default()).upper()
    try:
        return Account.objects.get_or_create(kind=kind, currency=currency)[0]
    except IntegrityError:  # created concurrently
        return Account.objects.get(kind=kind, currency=currency)


def account_payable(user: Any, currency: str | None = None) -> Account:
    currency = (currency or currency_default()).upper()
    defaults = {"label": getattr(user, "pseudonym", "")}
    try:
        with transaction.atomic():
            return Account.objects.get_or_create(kind=AccountKind.PAYABLE, user=user, currency=currency,
                                                 defaults=defaults)[0]
    except IntegrityError:
        return Account.objects.get(kind=AccountKind.PAYABLE, user=user, currency=currency)


def accounts_payable_bulk(users: list[Any], currency: str | None = None) -> dict[Any, Account]:
    """{user id: payable account} for many users in three queries (payout rounds)."""
    currency = (currency or currency_default()).upper()
    ids = [u.pk for u in users]
    have = {a.user_id: a for a in Account.objects.filter(kind=AccountKind.PAYABLE, currency=currency, user_id__in=ids)}
    missing = [u for u in users if u.pk not in have]
    if missing:
        Account.objects.bulk_create([Account(kind=AccountKind.PAYABLE, currency=currency, user=u,
                                             label=getattr(u, "pseudonym", "")) for u in missing],
                                    ignore_conflicts=True)
        have = {a.user_id: a for a in Account.objects.filter(kind=AccountKind.PAYABLE, currency=currency,
                                                             user_id__in=ids)}
    return have


def ledger_post(*, kind: str, legs: Iterable[tuple[Account, int]], created_by: Any | None = None,
                memo: str = "") -> Transaction:
    """Write one balanced transaction. Precondition: called inside an atomic block.

    Every leg is a non-zero integer; all accounts share one currency; the legs sum to zero.
    (PostgreSQL also checks the sum with a deferred constraint trigger at commit.)
    """
    if not connection.in_atomic_block:
        raise RuntimeError("ledger_post must run inside a transaction")
    legs = [(a, amt) for a, amt in legs]
    if len(legs) < 2:
        raise LedgerError("invalid", "a transaction needs at least two entries")
    currencies = {a.currency for a, _ in legs}
    if len(currencies) != 1:
        raise LedgerError("invalid", f"one currency per transaction, got {sorted(currencies)}")
    for _, amt in legs:
        if isinstance(amt, bool) or not isinstance(amt, int) or amt == 0:
            raise LedgerError("invalid", f"entry amounts must be non-zero integers, got {amt!r}")
    if sum(amt for _, amt in legs) != 0:
        raise LedgerError("invalid", "transaction does not balance")
    tx = Transaction.objects.create(kind=kind, currency=currencies.pop(),
                                    created_by=created_by if getattr(created_by, "is_authenticated", False) else None,
                                    memo=memo[:200])
    # One INSERT statement: PostgreSQL's balance trigger sees all legs together.
    Entry.objects.bulk_create([Entry(transaction=tx, account=a, amount_minor=amt) for a, amt in legs])
    return tx


def account_balance(account: Account) -> int:
    return int(Entry.objects.filter(account=account).aggregate(s=Sum("amount_minor"))["s"] or 0)


def pool_balance(currency: str | None = None) -> int:
    return account_balance(account_system(AccountKind.POOL, currency))


def ledger_totals(currency: str | None = None) -> dict[str, int]:
    """Balances by account kind (donations is negative: money that came from outside)."""
    currency = (currency or currency_default()).upper()
    rows = (Entry.objects.filter(account__currency=currency).values("account__kind")
            .annotate(s=Sum("amount_minor")))
    out = {k.value: 0 for k in AccountKind}
    for r in rows:
        out[r["account__kind"]] = int(r["s"] or 0)
    return out


def unbalanced_transactions() -> list[int]:
    """Ids of transactions whose entries do not sum to zero (should always be empty)."""
    return list(Transaction.objects.annotate(s=Sum("entries__amount_minor"), n=Count("entries"))
                .exclude(s=0).values_list("id", flat=True)) + list(
        Transaction.objects.annotate(n=Count("entries")).filter(n__lt=2).values_list("id", flat=True))
