"""Payout rounds: exact split, once per period (also under concurrency), exclusions, CSV, paying."""

from __future__ import annotations

import csv
import io
import threading
from decimal import Decimal

import pytest
from django.db import connection, connections

from facecommons.rewards.ledger import (
    account_balance,
    account_payable,
    ledger_totals,
    pool_balance,
    unbalanced_transactions,
)
from facecommons.rewards.models import PayoutLine, PayoutRound, PointsEntry
from facecommons.rewards.payouts import payout_round_csv, payout_round_mark_paid, payout_round_run
from facecommons.rewards.providers import get_provider
from facecommons.rewards.services import rewards_set_declined

pytestmark = pytest.mark.django_db


def donate(amount):
    return get_provider("manual").record_donation(amount_minor=amount)


def test_round_splits_pool_exactly_by_points(approved, make_user):
    donate(1000)
    a, b, c = make_user(), make_user(), make_user()
    approved(a)
    approved(b)
    approved(b)
    approved(c)  # points 10, 20, 10 -> 250, 500, 250
    rnd = payout_round_run(started_by=None, period="2026-01")
    lines = {ln.user: ln.amount_minor for ln in rnd.lines.all()}
    assert lines == {a: 250, b: 500, c: 250}
    assert rnd.distributed_minor == 1000 and rnd.pool_before_minor == 1000
    assert pool_balance() == 0
    assert account_balance(account_payable(b)) == 500
    assert unbalanced_transactions() == []
    # every entry settled; the next round has nothing to split
    assert not PointsEntry.objects.filter(payout_round__isnull=True).exists()
    donate(333)
    rnd2 = payout_round_run(started_by=None, period="2026-02")
    assert rnd2.distributed_minor == 0 and rnd2.lines.count() == 0 and pool_balance() == 333


def test_odd_cents_are_not_lost(approved, make_user):
    donate(100)
    for _ in range(3):
        approved(make_user())
    rnd = payout_round_run(started_by=None, period="p")
    assert sorted(rnd.lines.values_list("amount_minor", flat=True)) == [33, 33, 34]
    assert pool_balance() == 0


def test_starting_twice_gives_one_round(approved, make_user):
    donate(500)
    approved(make_user())
    first = payout_round_run(started_by=None)
    second = payout_round_run(started_by=None)
    assert first.pk == second.pk
    assert PayoutRound.objects.count() == 1
    assert ledger_totals()["payable"] == 500 and pool_balance() == 0


def test_declined_and_withdrawn_contributors_do_not_dilute_others(approved, make_user):
    from facecommons.accounts.services import account_withdraw

    donate(900)
    keen, shy, gone = make_user(), make_user(), make_user()
    approved(keen)
    approved(shy)
    approved(gone)
    rewards_set_declined(user=shy, declined=True)
    account_withdraw(user=gone)
    rnd = payout_round_run(started_by=None, period="x")
    assert {ln.user: ln.amount_minor for ln in rnd.lines.all()} == {keen: 900}
    # the declined contributor's points are settled: accepting later does not pay them
    rewards_set_declined(user=shy, declined=False)
    donate(100)
    assert payout_round_run(started_by=None, period="y").lines.count() == 0


def test_reversal_after_payout_does_not_claw_back(approved, transition, make_user):
    donate(1000)
    u = make_user()
    c = approved(u)
    payout_round_run(started_by=None, period="a")
    transition(c, "rejected")
    assert account_balance(account_payable(u)) == 1000  # allocated money stays
    donate(50)
    approved(make_user())
    rnd = payout_round_run(started_by=None, period="b")
    assert [ln.amount_minor for ln in rnd.lines.all()] == [50]


def test_reversal_in_same_period_cancels(approved, transition, make_user):
    donate(1000)
    u, v = make_user(), make_user()
    c = approved(u)
    approved(v)
    transition(c, "rejected")
    rnd = payout_round_run(started_by=None, period="a")
    assert {ln.user: ln.amount_minor for ln in rnd.lines.all()} == {v: 1000}


def test_withdrawal_forfeits_unpaid_balance_but_never_paid_money(approved, make_user):
    from facecommons.accounts.services import account_withdraw

    donate(1000)
    u, v = make_user(), make_user()
    approved(u)
    approved(v)
    r1 = payout_round_run(started_by=None, period="a")
    payout_round_mark_paid(payout_round=r1, paid_by=None)  # both paid 500
    donate(1000)
    approved(u)
    approved(v)
    payout_round_run(started_by=None, period="b")  # both allocated 500, unpaid
    account_withdraw(user=u)
    totals = ledger_totals()
    assert pool_balance() == 500  # u's unpaid 500 back to the pool
    assert account_balance(account_payable(u)) == 0
    assert totals["paid_out"] == 1000  # paid money is never clawed back
    assert PayoutLine.objects.get(user=u, round__period="b").status == "forfeited"
    assert sum(totals.values()) == 0 and unbalanced_transactions() == []


def test_mark_paid_moves_payable_to_paid_out_once(approved, make_user):
    donate(700)
    u = make_user()
    approved(u)
    rnd = payout_round_run(started_by=None, period="a")
    payout_round_mark_paid(payout_round=rnd, paid_by=None)
    payout_round_mark_paid(payout_round=rnd, paid_by=None)
    t = ledger_totals()
    assert (t["payable"], t["paid_out"], t["pool"], t["donations"]) == (0, 700, 0, -700)
    assert rnd.lines.get().status == "paid"


def test_csv_export(approved, make_user):
    from facecommons.common.models import AuditEvent

    donate(1001)
    u = make_user()
    approved(u)
    rnd = payout_round_run(started_by=None, period="2026-03")
    rows = list(csv.DictReader(io.StringIO(payout_round_csv(rnd, exported_by=None))))
    assert rows == [{"round": "2026-03", "line_id": str(rnd.lines.get().pk), "pseudonym": u.pseudonym,
                     "email": u.email, "points": "10.00", "amount_minor": "1001", "amount": "10.01",
                     "currency": "EUR", "status": "pending"}]
    assert AuditEvent.objects.filter(action="payout_round_export", object_id=str(rnd.pk)).exists()


def test_round_total_points(approved, make_user):
    donate(10)
    approved(make_user())
    assert payout_round_run(started_by=None, period="z").total_points == Decimal("10.00")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_rounds_started_at_once_produce_one(make_user, transition):
    if connection.vendor == "sqlite":
        pytest.skip("SQLite serialises every writer on the database file; real concurrency needs PostgreSQL")
    from facecommons.contributions.services import contribution_transition
    from tests.factories import make_contribution

    donate(10_000)
    for _ in range(3):
        c = make_contribution(make_user(), status="awaiting_review")
        contribution_transition(contribution=c, to="approved")  # we own the transaction: on_commit fires
    assert PointsEntry.objects.count() == 3

    barrier = threading.Barrier(4)
    results, errors = [], []

    def start():
        try:
            barrier.wait()
            results.append(payout_round_run(started_by=None, period="race").pk)
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=start) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert len(set(results)) == 1 and len(results) == 4
    assert PayoutRound.objects.count() == 1
    rnd = PayoutRound.objects.get()
    assert sum(rnd.lines.values_list("amount_minor", flat=True)) == 10_000
    assert pool_balance() == 0 and unbalanced_transactions() == []


def test_beat_schedules_monthly_round_and_daily_reconcile():
    from django_celery_beat.models import PeriodicTask

    monthly = PeriodicTask.objects.get(task="facecommons.rewards.tasks.payout_round_run_task")
    assert monthly.enabled and monthly.crontab.day_of_month == "1" and monthly.crontab.hour == "3"
    daily = PeriodicTask.objects.get(task="facecommons.rewards.tasks.points_reconcile_task")
    assert daily.crontab.day_of_month == "*"


def test_tasks_run_the_services(approved, make_user):
    from facecommons.common.queues import Queue, task_routes
    from facecommons.rewards.tasks import payout_round_run_task, points_reconcile_task

    donate(99)
    approved(make_user())
    pk = payout_round_run_task.apply(kwargs={"period": "task"}).get()
    assert PayoutRound.objects.get(pk=pk).distributed_minor == 99
    assert payout_round_run_task.apply(kwargs={"period": "task"}).get() == pk
    assert points_reconcile_task.apply().get() == {"credited": 0, "reversed": 0}
    assert task_routes()["*"]["queue"] == Queue.DEFAULT.value
