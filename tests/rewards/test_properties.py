"""Property-based ledger invariants: any sequence of donations, approvals, reversals (rejection,
deletion, withdrawal), declines, payout rounds and payments keeps every transaction balanced,
the pool exact to the cent, and points in line with what each photo should earn.

Each example runs in its own transaction that is rolled back (hypothesis' Django TestCase).
"""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from facecommons.accounts.services import account_create, account_withdraw
from facecommons.contributions.models import Contribution
from facecommons.contributions.services import contribution_delete, contribution_transition
from facecommons.rewards.ledger import (
    account_balance,
    account_payable,
    ledger_totals,
    pool_balance,
    unbalanced_transactions,
)
from facecommons.rewards.models import PayoutLine, PointsEntry, Transaction
from facecommons.rewards.payouts import payout_round_mark_paid, payout_round_run
from facecommons.rewards.providers import get_provider
from facecommons.rewards.services import rewards_set_declined
from tests.factories import make_contribution
from tests.rewards.conftest import cats

N_USERS = 3
ops = st.one_of(
    st.tuples(st.just("donate"), st.integers(1, 10**7)),
    st.tuples(st.just("approve"), st.integers(0, N_USERS - 1), st.sampled_from(["white", "black", "indigenous"])),
    st.tuples(st.just("reject"), st.integers(0, 50)),
    st.tuples(st.just("reapprove"), st.integers(0, 50)),
    st.tuples(st.just("delete"), st.integers(0, 50)),
    st.tuples(st.just("withdraw"), st.integers(0, N_USERS - 1)),
    st.tuples(st.just("decline"), st.integers(0, N_USERS - 1), st.booleans()),
    st.tuples(st.just("round")),
    st.tuples(st.just("pay")),
)


class LedgerInvariants(TestCase):
    def start(self):
        self.users = [account_create(email=f"prop{i}@example.org", password="x-very-long-pass-123")
                      for i in range(N_USERS)]
        self.contribution_ids = []
        self.rounds = []
        self.donated = 0

    def transition(self, c, to):
        with self.captureOnCommitCallbacks(execute=True):
            contribution_transition(contribution=c, to=to)

    def apply(self, op):
        kind = op[0]
        if kind == "donate":
            get_provider("manual").record_donation(amount_minor=op[1])
            self.donated += op[1]
        elif kind == "approve":
            owner = self.users[op[1]]
            if owner.withdrawn_at is None:
                c = make_contribution(owner, status="awaiting_review", categories=cats(ethnicity=[op[2]]))
                self.transition(c, "approved")
                self.contribution_ids.append(c.pk)
        elif kind in ("reject", "reapprove", "delete") and self.contribution_ids:
            c = Contribution.objects.filter(pk=self.contribution_ids[op[1] % len(self.contribution_ids)]).first()
            if c is None:
                return
            if kind == "reject" and c.status == "approved":
                self.transition(c, "rejected")
            elif kind == "reapprove" and c.status == "rejected":
                self.transition(c, "approved")
            elif kind == "delete":
                with self.captureOnCommitCallbacks(execute=True):
                    contribution_delete(contribution=c)
        elif kind == "withdraw":
            u = self.users[op[1]]
            if u.withdrawn_at is None:
                with self.captureOnCommitCallbacks(execute=True):
                    account_withdraw(user=u)
        elif kind == "decline":
            rewards_set_declined(user=self.users[op[1]], declined=op[2])
        elif kind == "round":
            before = pool_balance()
            rnd = payout_round_run(started_by=None, period=f"r{len(self.rounds)}")
            self.rounds.append(rnd)
            lines = list(rnd.lines.all())
            assert rnd.pool_before_minor == before
            assert sum(ln.amount_minor for ln in lines) == rnd.distributed_minor
            assert pool_balance() == before - rnd.distributed_minor
            if lines:
                assert rnd.distributed_minor == before  # the whole pool is split, to the cent
                total_w = sum(int(ln.points * 100) for ln in lines)
                for ln in lines:
                    floor = before * int(ln.points * 100) // total_w
                    assert ln.amount_minor in (floor, floor + 1)
            # asking again returns the same round and moves no money
            assert payout_round_run(started_by=None, period=rnd.period).pk == rnd.pk
            assert pool_balance() == before - rnd.distributed_minor
        elif kind == "pay" and self.rounds:
            payout_round_mark_paid(payout_round=self.rounds[-1], paid_by=None)

    def check_invariants(self):
        assert unbalanced_transactions() == []
        for tx in Transaction.objects.all():
            assert tx.entries.aggregate(s=Sum("amount_minor"))["s"] == 0
        totals = ledger_totals()
        assert sum(totals.values()) == 0
        assert -totals["donations"] == self.donated
        assert totals["pool"] >= 0
        for u in self.users:
            assert account_balance(account_payable(u)) >= 0
        # what is payable is exactly the pending payout lines
        pending = PayoutLine.objects.filter(status="pending").aggregate(s=Sum("amount_minor"))["s"] or 0
        assert pending == totals["payable"]
        # points: a photo holds one open credit iff it should earn
        for cid in self.contribution_ids:
            live = Contribution.objects.filter(pk=cid).select_related("owner").first()
            should = live is not None and live.status == "approved" and live.owner.withdrawn_at is None
            open_credits = PointsEntry.objects.filter(contribution_id=cid, kind="credit",
                                                      reversed_by__isnull=True).count()
            assert open_credits == (1 if should else 0), (cid, should, open_credits)
        assert not PointsEntry.objects.filter(points__lt=Decimal(0)).exists()

    @given(st.lists(ops, min_size=1, max_size=25))
    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    def test_any_sequence_keeps_the_books(self, sequence):
        self.start()
        for op in sequence:
            self.apply(op)
            self.check_invariants()
