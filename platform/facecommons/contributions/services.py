"""Contribution services. Every status change goes through :func:`contribution_transition`."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from facecommons.common.audit import audit_record
from facecommons.common.storage import storage_delete
from facecommons.contributions.models import Contribution, ContributionStatus
from facecommons.contributions.signals import contribution_removed, contribution_status_changed

S = ContributionStatus

# Which status may follow which. Moderation may re-open a decision through an admin.
ALLOWED_TRANSITIONS: dict[str, set[str]] = {
    S.RECEIVED: {S.PROCESSING, S.AWAITING_REVIEW, S.REJECTED, S.FAILED},
    S.PROCESSING: {S.RECEIVED, S.PROCESSING, S.AWAITING_REVIEW, S.REJECTED, S.FAILED},
    S.AWAITING_REVIEW: {S.APPROVED, S.REJECTED, S.RECEIVED},
    S.APPROVED: {S.REJECTED, S.AWAITING_REVIEW},
    S.REJECTED: {S.APPROVED, S.AWAITING_REVIEW},
    S.FAILED: {S.RECEIVED},
}


class InvalidTransition(Exception):
    pass


def contribution_transition(*, contribution: Contribution, to: str, actor: Any | None = None,
                            action: str = "status_change", reason_code: str = "", message: str = "",
                            error: str = "", note: str = "", extra: dict[str, Any] | None = None) -> Contribution:
    """Change the status, save it and write the audit log, in one transaction.

    Precondition: the caller holds the row (``select_for_update``) when concurrent changes
    are possible; this function does not re-read the row.
    """
    before = contribution.status
    if to not in ALLOWED_TRANSITIONS.get(before, set()) and to != before:
        raise InvalidTransition(f"{before} -> {to} is not allowed")
    with transaction.atomic():
        contribution.status = to
        contribution.status_changed_at = timezone.now()
        fields = ["status", "status_changed_at", "updated_at"]
        if to == S.REJECTED:
            contribution.rejection_code, contribution.rejection_message = reason_code, message
            fields += ["rejection_code", "rejection_message"]
        elif to in (S.APPROVED, S.AWAITING_REVIEW, S.RECEIVED, S.PROCESSING):
            if contribution.rejection_code or contribution.rejection_message:
                contribution.rejection_code = contribution.rejection_message = ""
                fields += ["rejection_code", "rejection_message"]
        if to == S.FAILED or error:
            contribution.error = error
            fields.append("error")
        contribution.save(update_fields=fields)
        audit_record(actor=actor, action=action, obj=contribution,
                     before={"status": before},
                     after={"status": to, **({"reason_code": reason_code} if reason_code else {}), **(extra or {})},
                     note=note or message)
        transaction.on_commit(lambda: contribution_status_changed.send(
            sender=Contribution, contribution=contribution, before=before, after=to))
    return contribution


def contribution_delete(*, contribution: Contribution, actor: Any | None = None, reason: str = "deleted") -> None:
    """Delete the contribution, its derived rows and every stored file.

    Files are removed after the transaction commits, so a rollback never leaves a row
    without its file.
    """
    keys = list(contribution.files.values_list("key", flat=True))
    cid = contribution.pk
    with transaction.atomic():
        contribution_removed.send(sender=Contribution, contribution=contribution, actor=actor)
        audit_record(actor=actor, action=reason, object_type="contributions.contribution", object_id=str(cid),
                     before={"status": contribution.status}, after={})
        contribution.delete()
        transaction.on_commit(lambda: storage_delete(*keys))
