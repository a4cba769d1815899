"""The money ledger: balanced transactions, integer amounts, the PostgreSQL balance trigger,
donations through providers, and the exact largest-remainder split."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from facecommons.rewards.ledger import (
    LedgerError,
    account_system,
    ledger_post,
    ledger_totals,
    pool_balance,
    unbalanced_transactions,
)
from facecommons.rewards.models import AccountKind, Donation, Entry, Transaction
from facecommons.rewards.payouts import largest_remainder
from facecommons.rewards.providers import PaymentProvider, get_provider, list_providers


@given(total=st.integers(min_value=0, max_value=10**12),
       weights=st.dictionaries(st.integers(0, 50), st.integers(0, 10**8), min_size=1, max_size=30))
@hsettings(max_examples=300, deadline=None)
def test_largest_remainder_is_exact(total, weights):
    parts = largest_remainder(total, weights)
    wsum = sum(weights.values())
    assert set(parts) == set(weights)
    assert all(p >= 0 for p in parts.values())
    if wsum == 0:
        assert all(p == 0 for p in parts.values())
        return
    assert sum(parts.values()) == total  # no cent created or lost
    for k, w in weights.items():
        # each part is within one cent of its exact share: floor or floor + 1
        exact_floor = total * w // wsum
        assert parts[k] in (exact_floor, exact_floor + 1)
        if w == 0:
            assert parts[k] == 0


def test_largest_remainder_example():
    # 100 cents among three equal weights: 34 + 33 + 33, tie broken deterministically
    assert sorted(largest_remainder(100, {"a": 1, "b": 1, "c": 1}).values()) == [33, 33, 34]
    assert largest_remainder(1000, {"common": 3000, "scarce": 3000}) == {"common": 500, "scarce": 500}
    assert largest_remainder(10, {"x": 1, "y": 2}) == {"x": 3, "y": 7}


@pytest.mark.django_db
def test_ledger_post_refuses_unbalanced_and_floats():
    pool, donors = account_system(AccountKind.POOL), account_system(AccountKind.DONATIONS)
    with transaction.atomic():
        with pytest.raises(LedgerError, match="does not balance"):
            ledger_post(kind="donation", legs=[(pool, 100), (donors, -99)])
        with pytest.raises(LedgerError, match="non-zero integers"):
            ledger_post(kind="donation", legs=[(pool, 1.5), (donors, -1.5)])
        with pytest.raises(LedgerError, match="non-zero integers"):
            ledger_post(kind="donation", legs=[(pool, 0), (donors, 0)])
        with pytest.raises(LedgerError, match="at least two"):
            ledger_post(kind="donation", legs=[(pool, 0)])
        eur_usd = account_system(AccountKind.POOL, "USD")
        with pytest.raises(LedgerError, match="one currency"):
            ledger_post(kind="donation", legs=[(eur_usd, 5), (donors, -5)])
    assert Transaction.objects.count() == 0


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_ledger_post_outside_transaction_is_refused():
    pool, donors = account_system(AccountKind.POOL), account_system(AccountKind.DONATIONS)
    with pytest.raises(RuntimeError):
        ledger_post(kind="donation", legs=[(pool, 1), (donors, -1)])


@pytest.mark.django_db
def test_entries_and_transactions_are_append_only(make_user):
    d = get_provider("manual").record_donation(amount_minor=500)
    entry = d.transaction.entries.first()
    entry.amount_minor = 1
    with pytest.raises(PermissionError):
        entry.save()
    with pytest.raises(PermissionError):
        entry.delete()
    with pytest.raises(PermissionError):
        d.transaction.delete()


@pytest.mark.django_db
def test_postgres_trigger_refuses_an_unbalanced_transaction():
    if connection.vendor != "postgresql":
        pytest.skip("the balance trigger is PostgreSQL-only (SQLite/CockroachDB rely on the service check)")
    pool = account_system(AccountKind.POOL)
    with pytest.raises(IntegrityError, match="does not balance"):
        with transaction.atomic():
            with connection.cursor() as cur:
                cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
            tx = Transaction.objects.create(kind="donation", currency="EUR")
            # bypassing the service on purpose
            Entry.objects.bulk_create([Entry(transaction=tx, account=pool, amount_minor=100)])


@pytest.mark.django_db
def test_donation_recorded_through_the_manual_provider(make_user):
    admin = make_user(role="admin")
    d = get_provider("manual").record_donation(amount_minor=12_345, donor_name="Ada", reference="BANK-1",
                                               recorded_by=admin)
    assert (d.provider, d.amount_minor, d.currency, d.recorded_by) == ("manual", 12_345, "EUR", admin)
    assert pool_balance() == 12_345
    totals = ledger_totals()
    assert totals["donations"] == -12_345 and sum(totals.values()) == 0
    assert unbalanced_transactions() == []
    with pytest.raises(LedgerError, match="already recorded"):
        get_provider("manual").record_donation(amount_minor=1, reference="BANK-1")
    # the same reference from another provider is a different donation
    get_provider("web_monetization").record_donation(amount_minor=7, reference="BANK-1")
    assert pool_balance() == 12_352
    assert Donation.objects.count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize("bad", [10.0, 10.5, "100", True, 0, -5, None, 10**15])
def test_donation_amount_must_be_positive_integer_minor_units(bad):
    with pytest.raises(LedgerError):
        get_provider("manual").record_donation(amount_minor=bad)
    assert Donation.objects.count() == 0


@pytest.mark.django_db
def test_donation_in_another_currency_is_refused():
    with pytest.raises(LedgerError, match="Only EUR"):
        get_provider("manual").record_donation(amount_minor=100, currency="USD")


def test_providers_registry():
    ids = [p.id for p in list_providers()]
    assert ids[:2] == ["manual", "web_monetization"]
    assert all(isinstance(p, PaymentProvider) for p in list_providers())
