"""Withdrawals propagate to published snapshots (connected in ReleasesConfig.ready).

``contributor_withdrawn`` arrives inside the withdrawal's transaction before the photos are
deleted; ``contribution_removed`` for a single deleted photo. Each receiver runs in its own
savepoint: a failure here is logged and never blocks the deletion (privacy first); the next
snapshot build sweeps anything missed (entries whose photo is gone are recorded at publish).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.db import transaction

from facecommons.releases.withdrawals import withdrawal_record

logger = logging.getLogger(__name__)


def on_withdrawn(*, user: Any, contribution_ids: list[Any], withdrawn_at: datetime) -> None:
    try:
        with transaction.atomic():
            withdrawal_record(contribution_ids=list(contribution_ids), reason="withdrawn",
                              withdrawn_at=withdrawn_at)
    except Exception:
        logger.exception("releases: recording the withdrawal of user %s failed", getattr(user, "pk", None))


def on_removed(*, contribution: Any, actor: Any) -> None:
    try:
        with transaction.atomic():
            withdrawal_record(contribution_ids=[contribution.pk], reason="removed")
    except Exception:
        logger.exception("releases: recording the removal of %s failed", contribution.pk)
