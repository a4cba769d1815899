"""Celery tasks of moderation (routed to the ``default`` queue)."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import InterfaceError, OperationalError

from facecommons.moderation.abuse import abuse_check

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, reject_on_worker_lost=True, autoretry_for=(OperationalError, InterfaceError),
             retry_backoff=2, retry_backoff_max=60, max_retries=5, soft_time_limit=120, time_limit=150)
def check_contribution_abuse(contribution_id: str) -> dict[str, int]:
    """Near-duplicate, same-face and declaration flags for one contribution (idempotent)."""
    result = abuse_check(contribution_id=contribution_id)
    logger.info("abuse check of %s: %s", contribution_id, result)
    return result
