"""Periodic rewards work (default queue): the monthly payout round and the daily reconciliation."""

from __future__ import annotations

from celery import shared_task

from facecommons.rewards.payouts import payout_round_run
from facecommons.rewards.points import points_reconcile


@shared_task(acks_late=True, reject_on_worker_lost=True, time_limit=600, soft_time_limit=540)
def payout_round_run_task(period: str | None = None) -> int:
    """Run this month's round; idempotent (the round of a period runs once)."""
    return payout_round_run(started_by=None, period=period).pk


@shared_task(acks_late=True, reject_on_worker_lost=True, time_limit=1800, soft_time_limit=1700)
def points_reconcile_task() -> dict[str, int]:
    return points_reconcile()
