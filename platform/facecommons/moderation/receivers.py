"""Reactions of the moderation app to the contributions app's events (connected in ModerationConfig.ready)."""

from __future__ import annotations

import logging
from typing import Any

from facecommons.contributions.models import ContributionStatus
from facecommons.moderation.tasks import check_contribution_abuse

logger = logging.getLogger(__name__)


def on_status_changed(*, contribution: Any, before: str, after: str) -> None:
    """Start the abuse checks when a photo reaches the queue (after commit: the task sees the row)."""
    if after != ContributionStatus.AWAITING_REVIEW:
        return
    try:
        check_contribution_abuse.delay(str(contribution.pk))
    except Exception:  # a broker outage must not undo the pipeline's work; the check can be re-run
        logger.exception("could not enqueue the abuse check of %s", contribution.pk)
