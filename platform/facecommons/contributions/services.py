"""Contribution services. Every status change goes through :func:`contribution_transition`."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import IO, Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext

from facecommons.accounts.services import user_has_current_consent
from facecommons.common.audit import audit_record
from facecommons.common.db import atomic_write
from facecommons.common.models import AuditEvent
from facecommons.common.storage import private_storage, storage_delete, storage_save_bytes
from facecommons.common.tunables import tunables
from facecommons.contributions.events import (
    contribution_categories_changed,
    contribution_received,
    contribution_removed,
    contribution_status_changed,
    contributor_withdrawn,
)
from facecommons.contributions.models import (
    Contribution,
    ContributionFile,
    ContributionStatus,
    FileVariant,
    TaxonomyVersion,
)
from facecommons.contributions.selectors import taxonomy_current
from facecommons.contributions.upload import UploadRejected, normalise_upload

logger = logging.getLogger(__name__)
T = TypeVar("T")

S = ContributionStatus

# Which status may follow which. Moderation may re-open a decision through an admin.
ALLOWED_TRANSITIONS: dict[str, set[str]] = {
    S.RECEIVED: {S.PROCESSING, S.AWAITING_REVIEW, S.REJECTED, S.FAILED},
    S.PROCESSING: {S.RECEIVED, S.PROCESSING, S.AWAITING_REVIEW, S.AWAITING_CONTRIBUTOR, S.REJECTED, S.FAILED},
    # Out of awaiting_contributor only by the contributor's review request (or an admin re-run).
    S.AWAITING_CONTRIBUTOR: {S.AWAITING_REVIEW, S.RECEIVED},
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
        contribution_status_changed.emit(contribution=contribution, before=before, after=to)
    return contribution


def contribution_delete(*, contribution: Contribution, actor: Any | None = None, reason: str = "deleted") -> None:
    """Delete the contribution, its derived rows and every stored file.

    Files are removed after the transaction commits, so a rollback never leaves a row
    without its file.
    """
    keys = list(contribution.files.values_list("key", flat=True))
    cid = contribution.pk
    with transaction.atomic():
        contribution_removed.emit(contribution=contribution, actor=actor)
        audit_record(actor=actor, action=reason, object_type="contributions.contribution", object_id=str(cid),
                     before={"status": contribution.status}, after={})
        contribution.delete()
        transaction.on_commit(lambda: storage_delete(*keys))


def contributions_withdraw(*, owner: Any, withdrawn_at: datetime) -> list[Any]:
    """Delete every contribution of ``owner``, who withdrew consent; return their ids.

    Precondition: inside the withdrawal's transaction with the owner's row locked (the
    accounts app's ``consent_withdrawn``). ``contributor_withdrawn`` goes first, so that
    releases and rewards record the withdrawal while the rows still exist; then each photo is
    deleted as by :func:`contribution_delete` (files after commit).
    """
    contributions = list(Contribution.objects.filter(owner=owner).order_by("created_at"))
    ids = [c.pk for c in contributions]
    contributor_withdrawn.emit(user=owner, contribution_ids=ids, withdrawn_at=withdrawn_at)
    for c in contributions:
        contribution_delete(contribution=c, actor=owner, reason="deleted_on_withdrawal")
    return ids


# --- upload, categories -------------------------------------------------------------------

class ContributionRefused(UploadRejected):
    """A refusal that is not about the file itself (consent, quota, duplicate, not editable).

    Subclass of :class:`UploadRejected`, so callers catch one type and answer ``status``.
    """


EDITABLE_STATUSES = {S.RECEIVED, S.PROCESSING, S.AWAITING_REVIEW, S.AWAITING_CONTRIBUTOR}
FREE_TEXT_MAX = 100
UPLOAD_ACTION = "uploaded"


def categories_validate(*, categories: Any, free_text: Any | None,
                        taxonomy: TaxonomyVersion) -> tuple[dict[str, Any], dict[str, str]]:
    """Check declared categories against ``taxonomy``; return (categories, free_text), cleaned.

    Raises ``ValidationError`` with a message per category key.
    """
    errors: dict[str, list[str]] = {}
    if not isinstance(categories, dict):
        raise ValidationError({"categories": [gettext("Categories must be an object of category → value(s).")]})
    if free_text is None:
        free_text = {}
    if not isinstance(free_text, dict):
        raise ValidationError({"free_text": [gettext("Free text must be an object of category → text.")]})
    cats = {c.key: c for c in taxonomy.categories.all()}
    for key in categories:
        if key not in cats:
            errors.setdefault(str(key)[:40], []).append(gettext("Unknown category “%(key)s”.") % {"key": str(key)[:40]})
    clean: dict[str, Any] = {}
    clean_text: dict[str, str] = {}
    for key, cat in cats.items():
        values = {v.key: v for v in cat.values.all()}
        raw = categories.get(key)
        if raw is None or raw == "" or raw == []:
            if cat.required:
                msg = (gettext("Please choose one or more values for “%(category)s”.") if cat.multiple
                       else gettext("Please choose a value for “%(category)s”."))
                errors.setdefault(key, []).append(msg % {"category": cat.display_label})
            continue
        if cat.multiple:
            chosen = [raw] if isinstance(raw, str) else raw
            if not isinstance(chosen, list) or not all(isinstance(v, str) for v in chosen):
                errors.setdefault(key, []).append(gettext("%(category)s: give a list of value keys.") % {"category": cat.display_label})
                continue
            chosen = list(dict.fromkeys(chosen))
        else:
            if isinstance(raw, list) and len(raw) == 1:
                raw = raw[0]
            if not isinstance(raw, str):
                errors.setdefault(key, []).append(gettext("%(category)s: choose exactly one value.") % {"category": cat.display_label})
                continue
            chosen = [raw]
        unknown = [v for v in chosen if v not in values]
        if unknown:
            errors.setdefault(key, []).append(gettext("%(category)s: unknown value “%(value)s”.")
                                              % {"category": cat.display_label, "value": unknown[0][:40]})
            continue
        exclusive = [v for v in chosen if values[v].exclusive]
        if exclusive and len(chosen) > 1:
            errors.setdefault(key, []).append(
                gettext("%(category)s: “%(value)s” cannot be combined with other values.")
                % {"category": cat.display_label, "value": values[exclusive[0]].display_label})
            continue
        if any(values[v].free_text for v in chosen):
            text = free_text.get(key)
            text = " ".join(text.split()) if isinstance(text, str) else ""
            text = "".join(ch for ch in text if ch.isprintable())
            if not text:
                errors.setdefault(key, []).append(
                    gettext("%(category)s: please describe in your own words, or choose another value.")
                    % {"category": cat.display_label})
                continue
            if len(text) > FREE_TEXT_MAX:
                errors.setdefault(key, []).append(
                    gettext("%(category)s: the description must be at most %(max)s characters (it has %(n)s).")
                    % {"category": cat.display_label, "max": FREE_TEXT_MAX, "n": len(text)})
                continue
            clean_text[key] = text
        clean[key] = chosen if cat.multiple else chosen[0]
    if errors:
        raise ValidationError(errors)
    return clean, clean_text


def uploads_in_last_day(owner: Any) -> int:
    since = timezone.now() - timedelta(days=1)
    return AuditEvent.objects.filter(actor=owner, action=UPLOAD_ACTION, created_at__gte=since).count()


def _duplicate_refusal() -> ContributionRefused:
    return ContributionRefused("duplicate", gettext("This exact photo has already been uploaded to Face Commons, "
                                                    "so it was not added again."), status=409)


def contribution_create(*, owner: Any, fileobj: IO[bytes], filename: str, content_type: str | None,
                        categories: dict[str, Any], free_text: dict[str, str] | None = None) -> Contribution:
    """Check, normalise and store one photo with its declared categories; status ``received``.

    Raises ``UploadRejected`` (status 403 consent, 429 quota, 409 duplicate, 400/413/415 the
    file) or ``ValidationError`` (categories). Atomic: the file is written first, the rows in
    one transaction; if that fails the file is removed again, unless another row uses it.
    ``contribution_received`` is emitted (on commit: the pipeline enqueues processing).
    """
    if not user_has_current_consent(owner):
        raise ContributionRefused("consent_required", gettext("Please read and accept the current consent "
                                                              "(and confirm you are 18 or older) before uploading."), status=403)
    limit = tunables.UPLOADS_PER_DAY
    if uploads_in_last_day(owner) >= limit:
        raise ContributionRefused("rate_limited", gettext("You have reached the limit of %(limit)s photos in 24 hours. "
                                                          "Please try again tomorrow.") % {"limit": limit}, status=429)
    taxonomy = taxonomy_current()
    clean, clean_text = categories_validate(categories=categories, free_text=free_text, taxonomy=taxonomy)
    img = normalise_upload(fileobj, filename=filename, content_type=content_type)
    if Contribution.objects.filter(Q(sha256=img.sha256) | Q(source_sha256=img.source_sha256)).exists():
        raise _duplicate_refusal()

    key = img.storage_key
    storage = private_storage()
    wrote = not storage.exists(key)
    storage_save_bytes(key, img.jpeg)

    def create_rows() -> Contribution:
        c = Contribution.objects.create(
            owner=owner, status=S.RECEIVED, taxonomy=taxonomy, categories=clean, categories_free_text=clean_text,
            sha256=img.sha256, source_sha256=img.source_sha256, phash=img.phash, width=img.width,
            height=img.height, original_format=img.source_format, original_name=img.name, byte_size=img.byte_size,
        )
        ContributionFile.objects.create(contribution=c, variant=FileVariant.ORIGINAL, key=key, sha256=img.sha256,
                                        content_type="image/jpeg", width=img.width, height=img.height,
                                        byte_size=img.byte_size)
        owner.last_declared_categories = clean
        owner.save(update_fields=["last_declared_categories"])
        audit_record(actor=owner, action=UPLOAD_ACTION, obj=c,
                     after={"status": S.RECEIVED, "sha256": img.sha256, "format": img.source_format,
                            "width": img.width, "height": img.height})

        def restore_file() -> None:
            # A concurrent failed upload of the same bytes may have removed the shared file
            # between our write and our commit: put it back before anyone reads it (this
            # callback is registered before the event's, so it runs first).
            if not storage.exists(key):
                storage_save_bytes(key, img.jpeg)

        transaction.on_commit(restore_file)
        contribution_received.emit(contribution_id=str(c.pk))
        return c

    try:
        return atomic_write(create_rows)
    except BaseException as exc:
        _discard_unreferenced(key, wrote)
        if isinstance(exc, IntegrityError) and Contribution.objects.filter(sha256=img.sha256).exists():
            raise _duplicate_refusal() from exc
        raise


def _discard_unreferenced(key: str, wrote: bool) -> None:
    """Remove a file we wrote for rows that were never committed (unless a row uses it)."""
    if not wrote:
        return
    try:
        referenced = ContributionFile.objects.filter(key=key).exists()
    except Exception:  # noqa: BLE001 - the database is what failed: the file cannot be ours to keep
        logger.warning("could not check references of %s; removing it", key, exc_info=True)
        referenced = False
    if not referenced:
        storage_delete(key)


def contribution_update_categories(*, contribution: Contribution, categories: dict[str, Any],
                                   free_text: dict[str, str] | None, actor: Any) -> Contribution:
    """Change the declared categories while the photo is not yet reviewed (else 409)."""
    taxonomy = taxonomy_current()
    clean, clean_text = categories_validate(categories=categories, free_text=free_text, taxonomy=taxonomy)

    def update() -> Contribution:
        c = Contribution.objects.select_for_update().get(pk=contribution.pk)
        if c.status not in EDITABLE_STATUSES:
            raise ContributionRefused("not_editable", gettext("This photo has already been reviewed (%(status)s), so its categories can "
                                        "no longer be changed.") % {"status": c.get_status_display()}, status=409)
        before = {"categories": c.categories, "free_text": c.categories_free_text, "taxonomy": c.taxonomy.version}
        c.categories, c.categories_free_text, c.taxonomy = clean, clean_text, taxonomy
        c.save(update_fields=["categories", "categories_free_text", "taxonomy", "updated_at"])
        audit_record(actor=actor, action="categories_updated", obj=c, before=before,
                     after={"categories": clean, "free_text": clean_text, "taxonomy": taxonomy.version})
        contribution_categories_changed.emit(contribution=c)  # the declared lighting may have changed
        if actor is not None and getattr(actor, "pk", None) == c.owner_id:
            c.owner.last_declared_categories = clean
            c.owner.save(update_fields=["last_declared_categories"])
        return c

    updated = atomic_write(update)
    for field in ("categories", "categories_free_text", "taxonomy", "taxonomy_id", "updated_at"):
        setattr(contribution, field, getattr(updated, field))
    return contribution
