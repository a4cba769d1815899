"""Reactions of the contributions app to other apps' events (connected in ContributionsConfig.ready)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from facecommons.contributions.services import contributions_withdraw


def on_consent_withdrawn(*, user: Any, withdrawn_at: datetime) -> None:
    # In the withdrawal's transaction: a failure here undoes the withdrawal (nothing half-deleted).
    contributions_withdraw(owner=user, withdrawn_at=withdrawn_at)
