"""Withdrawals propagate to published snapshots.

``contributor_withdrawn`` arrives inside the withdrawal's transaction before the photos are
deleted; ``contribution_removed`` for a single deleted photo. Each receiver runs in its own
savepoint: a failure here is logged and never blocks the deletion (privacy first); the next
snapshot build sweeps anything missed (entries whose photo is gone are recorded at publish).
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction

from facecommons.accounts.signals import contributor_withdrawn
from facecommons.contributions.signals import contribution_removed

logger = logging.getLogger(__name__)


def on_withdrawn(sender: Any, user: Any, contribution_ids: Any = (), withdrawn_at: Any = None, **kwargs: Any) -> None:
    from facecommons.releases.withdrawals import withdrawal_record

    try:
        with transaction.atomic():
            withdrawal_record(contribution_ids=list(contribution_ids or ()), reason="withdrawn",
                              withdrawn_at=withdrawn_at)
    except Exception:
        logger.exception("releases: recording the withdrawal of user %s failed", getattr(user, "pk", None))


def on_removed(sender: Any, contribution: Any, actor: Any = None, **kwargs: Any) -> None:
    from facecommons.releases.withdrawals import withdrawal_record

    try:
        with transaction.atomic():
            withdrawal_record(contribution_ids=[contribution.pk], reason="removed")
    except Exception:
        logger.exception("releases: recording the removal of %s failed", contribution.pk)


def connect() -> None:
    contributor_withdrawn.connect(on_withdrawn, dispatch_uid="releases_on_withdrawn")
    contribution_removed.connect(on_removed, dispatch_uid="releases_on_removed")
