"""Start the abuse checks when a photo reaches the queue."""

from __future__ import annotations

import logging
from typing import Any

from facecommons.contributions.models import ContributionStatus
from facecommons.contributions.signals import contribution_status_changed

logger = logging.getLogger(__name__)


def on_status_changed(sender: Any, contribution: Any, before: str, after: str, **kwargs: Any) -> None:
    # Sent after commit by contribution_transition, so the task sees the committed row.
    if after != ContributionStatus.AWAITING_REVIEW:
        return
    from facecommons.moderation.tasks import check_contribution_abuse

    try:
        check_contribution_abuse.delay(str(contribution.pk))
    except Exception:  # a broker outage must not undo the pipeline's work; the check can be re-run
        logger.exception("could not enqueue the abuse check of %s", contribution.pk)


def connect() -> None:
    contribution_status_changed.connect(on_status_changed, dispatch_uid="moderation_abuse_check")
