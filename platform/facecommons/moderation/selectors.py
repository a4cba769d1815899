"""Reads of moderation: the evidence shown with a photo, agreement statistics, audit log."""

from __future__ import annotations

import threading
from datetime import datetime, time
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from facecommons.common.models import AuditEvent
from facecommons.contributions.models import (
    Category,
    CategoryValue,
    Contribution,
    ContributionStatus,
    FileVariant,
    ReviewRequest,
    TaxonomyVersion,
)
from facecommons.contributions.selectors import taxonomy_as_dict
from facecommons.moderation.agreement import agreement_report, review_label
from facecommons.moderation.models import (
    REJECT_MESSAGES,
    ContributionFlag,
    Escalation,
    EscalationStatus,
    RejectReason,
    Review,
)
from facecommons.pipeline.findings import finding_items
from facecommons.pipeline.manual import analysis_needs_face_box

S = ContributionStatus
_taxonomy_cache: dict[int, dict[str, Any]] = {}
_taxonomy_lock = threading.Lock()


def image_url(contribution_id: Any, variant: str) -> str:
    return f"/api/v1/contributions/{contribution_id}/image/?variant={variant}"


def taxonomy_for(contribution: Contribution) -> dict[str, Any]:
    """The contribution's taxonomy as a dict; cached per version (versions in use are frozen)."""
    with _taxonomy_lock:
        cached = _taxonomy_cache.get(contribution.taxonomy_id)
    if cached is None:
        tax = (TaxonomyVersion.objects.filter(pk=contribution.taxonomy_id)
               .prefetch_related(Prefetch("categories", queryset=Category.objects.order_by("order", "id")
                                          .prefetch_related(Prefetch("values", queryset=CategoryValue.objects
                                                                     .order_by("order", "id"))))).get())
        cached = taxonomy_as_dict(tax)
        with _taxonomy_lock:
            _taxonomy_cache[contribution.taxonomy_id] = cached
    return cached


def owner_history(owner_id: Any, *, exclude_id: Any = None) -> dict[str, int]:
    counts = Contribution.objects.filter(owner_id=owner_id).aggregate(
        approved=Count("pk", filter=Q(status=S.APPROVED)), rejected=Count("pk", filter=Q(status=S.REJECTED)),
        awaiting=Count("pk", filter=Q(status=S.AWAITING_REVIEW)), total=Count("pk"))
    counts["flags"] = ContributionFlag.objects.filter(contribution__owner_id=owner_id, resolved=False).count()
    return counts


# The automatic check's verdict codes (pipeline.analysis) in the moderator's words.
VERDICT_LABELS = {
    "ok": gettext_lazy("passed"),
    "no_face": gettext_lazy("no face found"),
    "multiple_faces": gettext_lazy("more than one face"),
    "face_too_small": gettext_lazy("face too small"),
    "too_blurry": gettext_lazy("too blurry"),
    "too_dark": gettext_lazy("too dark"),
    "error": gettext_lazy("processing failed"),
}


def verdict_label(code: str | None) -> str:
    return str(VERDICT_LABELS.get(code or "", code or "—"))


def contribution_evidence(contribution: Contribution) -> dict[str, Any]:
    """Everything the review screen shows for one photo (a fixed number of queries)."""
    c = contribution
    try:
        analysis = c.analysis
    except Exception:  # noqa: BLE001 - RelatedObjectDoesNotExist: the pipeline has not written one
        analysis = None
    variants = set(c.files.values_list("variant", flat=True))
    flags = []
    for f in ContributionFlag.objects.filter(contribution=c).select_related("related_contribution__owner"):
        rel = f.related_contribution
        flags.append({"id": f.pk, "kind": f.kind, "label": f.get_kind_display(), "score": round(f.score, 4),
                      "detail": f.detail, "resolved": f.resolved,
                      "related": None if rel is None else {
                          "id": str(rel.pk), "status": rel.status, "status_label": rel.get_status_display(),
                          "same_account": rel.owner_id == c.owner_id,
                          "pseudonym": rel.owner.pseudonym,
                          "thumbnail_url": image_url(rel.pk, FileVariant.THUMBNAIL),
                          "original_url": image_url(rel.pk, FileVariant.ORIGINAL)}})
    reviews = list(Review.objects.filter(contribution=c).values("decision", "reason_code"))
    request = ReviewRequest.objects.filter(contribution=c).first()
    return {
        "id": str(c.pk),
        "status": c.status,
        "created_at": c.created_at.isoformat(),
        "width": c.width,
        "height": c.height,
        "categories": c.categories,
        "free_text": c.categories_free_text,
        "corrected_categories": c.corrected_categories,
        "taxonomy": taxonomy_for(c),
        "images": {
            "original": image_url(c.pk, FileVariant.ORIGINAL),
            "enhanced": image_url(c.pk, FileVariant.ENHANCED) if FileVariant.ENHANCED in variants else None,
            "thumbnail": image_url(c.pk, FileVariant.THUMBNAIL) if FileVariant.THUMBNAIL in variants else None,
        },
        "analysis": None if analysis is None else {
            "lowlight": analysis.lowlight, "enhanced": analysis.enhanced, "detector": analysis.detector_id,
            "detections_original": analysis.detections_original, "detections_enhanced": analysis.detections_enhanced,
            "face": analysis.face, "sharpness": analysis.sharpness, "verdict_code": analysis.verdict_code,
            "verdict_label": verdict_label(analysis.verdict_code),
        },
        # The pipeline's findings, shown as flags: the machine advises, people decide.
        "findings": finding_items(analysis.findings if analysis is not None else []),
        # No face validated: an approval must mark it with a box.
        "needs_face_box": analysis_needs_face_box(analysis),
        "review_request": None if request is None else {"note": request.note,
                                                        "created_at": request.created_at.isoformat(),
                                                        "route": request.route},
        "flags": flags,
        "reviews_so_far": {"approve": sum(1 for r in reviews if r["decision"] in ("approve", "correct")),
                           "reject": sum(1 for r in reviews if r["decision"] == "reject")},
        "contributor": {"pseudonym": c.owner.pseudonym, **owner_history(c.owner_id)},
    }


def queue_stats(moderator: Any) -> dict[str, int]:
    """What the review page says up front: photos waiting for this moderator (not their own,
    not yet reviewed by them) and the decisions they recorded since midnight (UTC)."""
    start = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    waiting = (Contribution.objects.filter(status=S.AWAITING_REVIEW).exclude(owner_id=moderator.pk)
               .exclude(reviews__moderator_id=moderator.pk).count())
    today = Review.objects.filter(moderator_id=moderator.pk, created_at__gte=start).count()
    return {"waiting": waiting, "reviewed_today": today}


def reject_reasons() -> list[dict[str, str]]:
    return [{"code": r.value, "label": str(r.label), "message": gettext(REJECT_MESSAGES[r])} for r in RejectReason]


def agreement_stats() -> dict[str, Any]:
    rows = (Review.objects.filter(decision__in=["approve", "correct", "reject"])
            .values_list("contribution_id", "moderator_id", "decision", "reason_code", "moderator__pseudonym")
            .iterator(chunk_size=5000))
    labels: dict[Any, str] = {}
    triples = []
    for cid, mid, decision, reason, pseudonym in rows:
        labels[mid] = pseudonym
        lab = review_label(decision, reason)
        if lab is not None:
            triples.append((cid, mid, lab))
    return agreement_report(triples, labels)


def escalations_open() -> QuerySet[Escalation]:
    return (Escalation.objects.filter(status=EscalationStatus.OPEN).select_related("contribution", "raised_by")
            .prefetch_related("contribution__reviews__moderator").order_by("created_at"))


def audit_events(*, actor: str = "", action: str = "", object_type: str = "", object_id: str = "",
                 date_from: Any = None, date_to: Any = None) -> QuerySet[AuditEvent]:
    """Filtered audit log, newest first. ``actor`` matches the pseudonymous label or the email."""
    qs = AuditEvent.objects.all()
    if actor == "system":
        qs = qs.filter(actor__isnull=True, actor_label="")
    elif actor:
        qs = qs.filter(Q(actor_label__iexact=actor) | Q(actor__email__iexact=actor))
    if action:
        qs = qs.filter(action=action)
    if object_type:
        qs = qs.filter(object_type=object_type)
    if object_id:
        qs = qs.filter(object_id=object_id)
    tz = timezone.get_current_timezone()
    if date_from:
        qs = qs.filter(created_at__gte=timezone.make_aware(datetime.combine(date_from, time.min), tz))
    if date_to:
        qs = qs.filter(created_at__lte=timezone.make_aware(datetime.combine(date_to, time.max), tz))
    return qs.order_by("-created_at", "-id")
