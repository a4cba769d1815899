"""Reactions of the rewards app: points follow the life of a contribution (connected in RewardsConfig.ready).

A failure here must never block moderation, deletion or withdrawal (privacy first), so each
receiver works inside its own savepoint, logs what went wrong, and leaves the repair to the
daily ``points_reconcile``.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from facecommons.contributions.models import ContributionStatus
from facecommons.rewards.points import DUPLICATE_FLAG_KINDS, contribution_points_sync
from facecommons.rewards.services import payable_forfeit

logger = logging.getLogger(__name__)


def _safe(fn: Any, **kwargs: Any) -> None:
    try:
        fn(**kwargs)
    except Exception:
        logger.exception("rewards: %s(%s) failed; the daily reconciliation will retry", fn.__name__, kwargs)


def on_status_changed(*, contribution: Any, before: str, after: str) -> None:
    if ContributionStatus.APPROVED in (before, after):
        _safe(contribution_points_sync, contribution_id=contribution.pk, reason=f"status_{after}")


def on_removed(*, contribution: Any, actor: Any) -> None:
    _safe(contribution_points_sync, contribution_id=contribution.pk, removing=True, reason="removed")


def on_withdrawn(*, user: Any, contribution_ids: list[Any], withdrawn_at: datetime) -> None:
    for cid in contribution_ids:
        _safe(contribution_points_sync, contribution_id=cid, removing=True, reason="withdrawn")
    _safe(payable_forfeit, user=user, reason="withdrawn")


def on_flag_changed(*, contribution_id: Any, kind: str, resolved: bool) -> None:
    # A duplicate flag raised after crediting reverses; resolving it lets an approved photo earn.
    if kind in DUPLICATE_FLAG_KINDS:
        _safe(contribution_points_sync, contribution_id=contribution_id,
              reason="flag_resolved" if resolved else "duplicate_flag")
