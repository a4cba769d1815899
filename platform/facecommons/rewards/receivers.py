"""Signal receivers: points follow the life of a contribution.

A failure here must never block moderation, deletion or withdrawal (privacy first), so each
receiver works inside its own savepoint, logs what went wrong, and leaves the repair to the
daily ``points_reconcile``.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db.models.signals import post_save

from facecommons.accounts.signals import contributor_withdrawn
from facecommons.contributions.models import ContributionStatus
from facecommons.contributions.signals import contribution_removed, contribution_status_changed
from facecommons.rewards.points import contribution_points_sync, flag_model

logger = logging.getLogger(__name__)


def _safe(fn: Any, **kwargs: Any) -> None:
    try:
        fn(**kwargs)
    except Exception:
        logger.exception("rewards: %s(%s) failed; the daily reconciliation will retry", fn.__name__, kwargs)


def on_status_changed(sender: Any, contribution: Any, before: str, after: str, **kwargs: Any) -> None:
    if ContributionStatus.APPROVED in (before, after):
        _safe(contribution_points_sync, contribution_id=contribution.pk, reason=f"status_{after}")


def on_removed(sender: Any, contribution: Any, actor: Any = None, **kwargs: Any) -> None:
    _safe(contribution_points_sync, contribution_id=contribution.pk, removing=True, reason="removed")


def on_withdrawn(sender: Any, user: Any, contribution_ids: Any = (), withdrawn_at: Any = None, **kwargs: Any) -> None:
    from facecommons.rewards.services import payable_forfeit

    for cid in contribution_ids or ():
        _safe(contribution_points_sync, contribution_id=cid, removing=True, reason="withdrawn")
    _safe(payable_forfeit, user=user, reason="withdrawn")


def on_flag_saved(sender: Any, instance: Any, **kwargs: Any) -> None:
    # A duplicate flag raised after crediting reverses; resolving it lets an approved photo earn.
    if getattr(instance, "kind", None) in ("near_duplicate", "same_face"):
        _safe(contribution_points_sync, contribution_id=instance.contribution_id,
              reason="flag_resolved" if instance.resolved else "duplicate_flag")


def connect() -> None:
    contribution_status_changed.connect(on_status_changed, dispatch_uid="rewards_status_changed")
    contribution_removed.connect(on_removed, dispatch_uid="rewards_removed")
    contributor_withdrawn.connect(on_withdrawn, dispatch_uid="rewards_withdrawn")
    flag = flag_model()
    if flag is not None:
        post_save.connect(on_flag_saved, sender=flag, dispatch_uid="rewards_flag_saved")
