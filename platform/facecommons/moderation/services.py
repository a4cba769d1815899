"""Moderation services: the queue (leases), decisions, consensus, escalations.

Leasing (``common.leases`` for the lease's end and the SKIP LOCKED read; the claim itself is
an upsert, because a moderator's lease is a row of its own). A lease is a row of ``ReviewLease``
(unique per contribution). Taking one is either
an INSERT (which fails on the unique constraint while another moderator's row exists) or a
conditional UPDATE of a row that is expired or already ours; both are atomic on every
database, so two moderators never hold the same photo. On PostgreSQL and CockroachDB the
candidates are first read ``FOR UPDATE SKIP LOCKED`` (a small LIMIT), so concurrent
moderators walk past each other's candidates instead of queueing on the same rows; on SQLite
(one writer at a time) the conditional write alone is the guarantee.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext

from facecommons.accounts.roles import is_admin, is_moderator
from facecommons.common.audit import audit_record
from facecommons.common.db import atomic_write
from facecommons.common.leases import lease_until, lock_candidates
from facecommons.common.tunables import tunables
from facecommons.contributions.models import Contribution, ContributionStatus
from facecommons.contributions.services import categories_validate, contribution_transition
from facecommons.moderation.errors import ModerationError
from facecommons.moderation.events import flag_changed
from facecommons.moderation.facebox import face_box_for_decision, face_mark_on_approval
from facecommons.moderation.models import (
    REJECT_MESSAGES,
    Decision,
    Escalation,
    EscalationStatus,
    RejectReason,
    Review,
    ReviewLease,
)

logger = logging.getLogger(__name__)
S = ContributionStatus
CANDIDATE_BATCH = 5
SCARCEST_WINDOW = 50
NOTE_MAX = 2000


def lease_seconds() -> int:
    return tunables.MODERATION_LEASE_SECONDS


def consensus_n() -> int:
    return max(1, tunables.MODERATION_CONSENSUS)


# --- queue ---------------------------------------------------------------------------------

def queue_candidates(*, moderator: Any, now: Any, exclude_ids: list[Any] | None = None) -> Any:
    """Awaiting-review contributions this moderator may take, oldest first (a queryset).

    Not their own, not reviewed by them, not escalated, not leased by someone else now.
    """
    qs = (Contribution.objects.filter(status=S.AWAITING_REVIEW).exclude(owner_id=moderator.pk)
          .filter(~Exists(Review.objects.filter(contribution_id=OuterRef("pk"), moderator_id=moderator.pk)))
          .filter(~Exists(ReviewLease.objects.filter(contribution_id=OuterRef("pk"), expires_at__gt=now)
                          .exclude(moderator_id=moderator.pk)))
          .filter(~Exists(Escalation.objects.filter(contribution_id=OuterRef("pk"), status=EscalationStatus.OPEN))))
    if exclude_ids:
        qs = qs.exclude(pk__in=exclude_ids)
    return qs.order_by("created_at", "pk")


# Static SQL (PostgreSQL, CockroachDB and SQLite ≥ 3.35 share this upsert syntax).
LEASE_UPSERT = (
    "INSERT INTO moderation_reviewlease (contribution_id, moderator_id, leased_at, expires_at) "
    "VALUES (%s, %s, %s, %s) ON CONFLICT (contribution_id) DO UPDATE SET moderator_id = excluded.moderator_id, "
    "leased_at = excluded.leased_at, expires_at = excluded.expires_at "
    "WHERE moderation_reviewlease.expires_at <= %s OR moderation_reviewlease.moderator_id = excluded.moderator_id "
    "RETURNING id"
)


def lease_take(*, moderator: Any, contribution_id: Any, now: Any) -> bool:
    """Take (or renew) the lease of one contribution; False when someone else holds it.

    One statement on every backend (PostgreSQL, CockroachDB, SQLite ≥ 3.35): an INSERT that,
    on the unique contribution, updates the row only if it is expired or already ours. A
    concurrent INSERT of the same contribution waits for the other transaction and then sees
    its row, so exactly one moderator gets it. Precondition: inside a transaction.
    """
    expires = lease_until(lease_seconds(), now=now)
    cid = ReviewLease._meta.get_field("contribution").get_db_prep_value(contribution_id, connection)
    with connection.cursor() as cur:
        cur.execute(LEASE_UPSERT, [cid, moderator.pk, _db_dt(now), _db_dt(expires), _db_dt(now)])
        return cur.fetchone() is not None


def _db_dt(value: Any) -> Any:
    return connection.ops.adapt_datetimefield_value(value)


def approved_value_counts() -> dict[str, int]:
    """Approved photos per ``category=value`` (effective categories), cached for a minute.

    Used only to rank the queue by scarcity; a minute-old count is good enough and keeps
    the queue from scanning every approved photo on each request.
    """
    key = "moderation:approved_value_counts"
    counts = cache.get(key)
    if counts is None:
        counts = {}
        rows = Contribution.objects.filter(status=S.APPROVED).values_list("categories", "corrected_categories")
        for declared, corrected in rows.iterator(chunk_size=2000):
            for cat, val in {**(declared or {}), **(corrected or {})}.items():
                for v in (val if isinstance(val, list) else [val]):
                    counts[f"{cat}={v}"] = counts.get(f"{cat}={v}", 0) + 1
        cache.set(key, counts, 60)
    return counts


def scarcity(categories: dict[str, Any], counts: dict[str, int]) -> int:
    """The count of the scarcest declared value (lower = scarcer)."""
    best: int | None = None
    for cat, val in (categories or {}).items():
        for v in (val if isinstance(val, list) else [val]):
            n = counts.get(f"{cat}={v}", 0)
            best = n if best is None else min(best, n)
    return best or 0


def queue_lease_next(*, moderator: Any, exclude_ids: list[Any] | None = None) -> Contribution | None:
    """Lease the next contribution for ``moderator`` (or renew one they hold), or None.

    ``exclude_ids``: contributions the caller already holds in its buffer. Order follows
    ``MODERATION_QUEUE_ORDER``: ``oldest`` (default) or ``scarcest`` (the scarcest declared
    category value first, among the oldest ``SCARCEST_WINDOW`` candidates, so it stays fast).
    """
    if not is_moderator(moderator):
        raise ModerationError("forbidden", gettext("Only moderators and admins can review photos."), status=403)
    order = tunables.MODERATION_QUEUE_ORDER
    skip_locked = connection.features.has_select_for_update_skip_locked

    def lease() -> Contribution | None:
        now = timezone.now()
        if connection.vendor == "postgresql":
            # A lease is disposable (it expires by itself, and a lost one is simply taken
            # again), so its commit need not wait for the WAL flush. Decisions keep the flush.
            with connection.cursor() as cur:
                cur.execute("SET LOCAL synchronous_commit TO OFF")
        qs = queue_candidates(moderator=moderator, now=now, exclude_ids=exclude_ids)
        if order == "scarcest":
            window = list(qs.values_list("pk", "categories")[:SCARCEST_WINDOW])
            counts = approved_value_counts()
            ids = [pk for pk, _ in sorted(window, key=lambda row: scarcity(row[1], counts))]
            if skip_locked and ids:
                locked = set(lock_candidates(Contribution.objects.filter(pk__in=ids).values_list("pk", flat=True),
                                             limit=len(ids)))
                ids = [pk for pk in ids if pk in locked]
        else:
            # Whole rows (with owner): the lease needs no second read of the winner.
            return _lease_first(lock_candidates(qs.select_related("owner"), limit=CANDIDATE_BATCH), now)
        by_id = {c.pk: c for c in Contribution.objects.select_related("owner").filter(pk__in=ids)}
        return _lease_first([by_id[pk] for pk in ids if pk in by_id], now)

    def _lease_first(rows: list[Contribution], now: Any) -> Contribution | None:
        for c in rows:
            # Taking a lease is not logged (it changes nothing); the photo views and the
            # decision are.
            if lease_take(moderator=moderator, contribution_id=c.pk, now=now):
                return c
        return None

    # A batch can be exhausted by other moderators between reading and leasing: try again
    # a few times before telling the moderator the queue is empty.
    for _ in range(4):
        got = atomic_write(lease)
        if got is not None:
            return got
        if not atomic_write(lambda: queue_candidates(moderator=moderator, now=timezone.now(),
                                             exclude_ids=exclude_ids).exists()):
            return None
    return None


def lease_release(*, moderator: Any, contribution_id: Any) -> int:
    deleted, _ = ReviewLease.objects.filter(contribution_id=contribution_id, moderator_id=moderator.pk).delete()
    return deleted


# --- decisions -----------------------------------------------------------------------------

@dataclass
class DecisionResult:
    review: Review
    contribution: Contribution
    outcome: str  # "pending", "approved", "rejected", "escalated", "skipped"


def _clean_note(note: Any) -> str:
    if note is None:
        return ""
    if not isinstance(note, str):
        raise ModerationError("invalid", gettext("The note must be text."), status=400)
    note = note.strip()
    if len(note) > NOTE_MAX:
        raise ModerationError("invalid", gettext("The note must be at most %(max)s characters.") % {"max": NOTE_MAX}, status=400)
    return note


def corrections_validate(*, contribution: Contribution, categories: Any) -> dict[str, Any]:
    """Check corrected values against the contribution's own taxonomy; return only the keys
    whose value differs from the declared one."""
    if not isinstance(categories, dict) or not categories:
        raise ModerationError("invalid_categories", gettext("Give the corrected categories as an object of "
                                                    "category → value(s)."), status=400)
    merged = {**contribution.categories, **contribution.corrected_categories, **categories}
    try:
        clean, _ = categories_validate(categories=merged, free_text=contribution.categories_free_text,
                                       taxonomy=contribution.taxonomy)
    except ValidationError as exc:
        fields = exc.message_dict if hasattr(exc, "error_dict") else {"categories": exc.messages}
        raise ModerationError("invalid_categories", "; ".join(" ".join(v) for v in fields.values()), status=400) from exc
    return {k: v for k, v in clean.items() if k in categories and v != contribution.categories.get(k)}


def review_decide(*, moderator: Any, contribution: Contribution, decision: str, reason_code: str | None = None,
                  note: str = "", categories: dict[str, Any] | None = None,
                  face_box: list[float] | None = None) -> DecisionResult:
    """Record ``moderator``'s decision, apply consensus, release the lease.

    ``face_box``: where the detector found no face, an approval marks the face ([x1, y1, x2,
    y2], pixels of the stored original); the crops are cut from it on approval.

    Refusals (``ModerationError``): not a moderator 403, own photo 403, already reviewed
    409, lease held by someone else or by no one 409, photo no longer awaiting review 409,
    bad reason/categories/note/face box 400, an approval without the face box it needs 400.
    """
    if not is_moderator(moderator):
        raise ModerationError("forbidden", gettext("Only moderators and admins can review photos."), status=403)
    if decision not in Decision.values:
        raise ModerationError("invalid_decision", gettext("Unknown decision “%(decision)s”; use one of %(choices)s.")
                               % {"decision": str(decision)[:20], "choices": ", ".join(Decision.values)}, status=400)
    note = _clean_note(note)
    reason = reason_code or ""
    if decision == Decision.REJECT:
        if reason not in RejectReason.values:
            raise ModerationError("invalid_reason", gettext("Choose a rejection reason: %(choices)s.")
                                  % {"choices": ", ".join(RejectReason.values)}, status=400)
        if reason == RejectReason.OTHER and not note:
            raise ModerationError("note_required", gettext("Rejecting for 'other' needs a note saying why."), status=400)
    elif reason:
        raise ModerationError("invalid_reason", gettext("A reason is only given with a rejection."), status=400)
    if decision == Decision.CORRECT and not categories:
        raise ModerationError("invalid_categories", gettext("A correction needs the corrected categories."), status=400)
    if categories and decision not in (Decision.APPROVE, Decision.CORRECT):
        raise ModerationError("invalid_categories", gettext("Categories can only be corrected with an approval."), status=400)
    if face_box and decision not in (Decision.APPROVE, Decision.CORRECT):
        raise ModerationError("invalid_face_box", gettext("A face box is only marked with an approval."), status=400)

    def decide() -> DecisionResult:
        # One read for the locked row and its lease, one for the votes so far.
        of = ("self",) if connection.features.has_select_for_update_of else ()
        c = (Contribution.objects.select_for_update(of=of).select_related("taxonomy", "review_lease")
             .get(pk=contribution.pk))
        if c.owner_id == moderator.pk:
            raise ModerationError("own_photo", gettext("You cannot review your own photo."), status=403)
        votes = list(Review.objects.filter(contribution=c).order_by("created_at", "pk")
                     .values_list("moderator_id", "decision", "reason_code", "note"))
        if any(v[0] == moderator.pk for v in votes):
            raise ModerationError("already_reviewed", gettext("You have already reviewed this photo."), status=409)
        if c.status != S.AWAITING_REVIEW:
            raise ModerationError("not_awaiting_review", gettext("This photo is no longer awaiting review (%(status)s).")
                                  % {"status": c.get_status_display()}, status=409)
        lease = getattr(c, "review_lease", None)
        if lease is None or lease.moderator_id != moderator.pk:
            raise ModerationError("not_leased", gettext("You do not hold this photo in your queue (its lease expired "
                                                "and another moderator took it, or you never leased it). "
                                                "Take the next photo."), status=409)
        corrected: dict[str, Any] = {}
        if categories:
            corrected = corrections_validate(contribution=c, categories=categories)
        box = face_box_for_decision(c, decision, face_box) if decision in (Decision.APPROVE, Decision.CORRECT) else []
        review = Review.objects.create(contribution=c, moderator=moderator, decision=decision, reason_code=reason,
                                       note=note, corrected_categories=corrected, face_box=box)
        votes.append((moderator.pk, decision, reason, note))
        audit_record(actor=moderator, action=f"moderation_{decision}", obj=c, before={"status": c.status},
                     after={"decision": decision, **({"reason_code": reason} if reason else {}),
                            **({"corrected_categories": corrected} if corrected else {}),
                            **({"face_box": box} if box else {})}, note=note)
        if corrected:
            before = dict(c.corrected_categories)
            c.corrected_categories = {**c.corrected_categories, **corrected}
            c.save(update_fields=["corrected_categories", "updated_at"])
            audit_record(actor=moderator, action="categories_corrected", obj=c,
                         before={"categories": c.categories, "corrected_categories": before},
                         after={"corrected_categories": c.corrected_categories})
        ReviewLease.objects.filter(pk=lease.pk).delete()
        if decision == Decision.SKIP:
            outcome = "skipped"
        elif decision == Decision.ESCALATE:
            _escalate(c, reason="moderator_escalated", raised_by=moderator, note=note)
            outcome = "escalated"
        else:
            outcome = _apply_consensus(c, votes)
        return DecisionResult(review=review, contribution=c, outcome=outcome)

    result: DecisionResult = atomic_write(decide)
    return result


def _escalate(c: Contribution, *, reason: str, raised_by: Any | None = None, note: str = "") -> Escalation:
    open_ = Escalation.objects.filter(contribution=c, status=EscalationStatus.OPEN).first()
    if open_ is not None:
        return open_
    esc = Escalation.objects.create(contribution=c, reason=reason, raised_by=raised_by, note=note)
    ReviewLease.objects.filter(contribution=c).delete()
    audit_record(actor=raised_by, action="moderation_escalated", obj=c, after={"reason": reason}, note=note)
    return esc


def _apply_consensus(c: Contribution, votes: list[tuple[Any, str, str, str]]) -> str:
    """Approve on N approvals and no rejection; reject on N rejections with the same reason;
    escalate any disagreement. ``votes``: (moderator, decision, reason, note) of every review,
    oldest first. Precondition: ``c`` is locked in the current transaction."""
    n = consensus_n()
    approvals = sum(1 for _, d, _, _ in votes if d in (Decision.APPROVE, Decision.CORRECT))
    rejects = [(r, note) for _, d, r, note in votes if d == Decision.REJECT]
    if approvals and rejects:
        _escalate(c, reason="disagreement")
        return "escalated"
    if approvals >= n:
        face_mark_on_approval(c)
        contribution_transition(contribution=c, to=S.APPROVED, action="moderation_approved",
                                extra={"approvals": approvals})
        return "approved"
    if rejects:
        reasons = {r for r, _ in rejects}
        if len(reasons) > 1 and len(rejects) >= n:
            _escalate(c, reason="reject_reasons_differ")
            return "escalated"
        if len(reasons) == 1 and len(rejects) >= n:
            reason = rejects[0][0]
            notes = [note for _, note in rejects if note]
            message = REJECT_MESSAGES.get(reason, "Moderators did not accept this photo.")
            if reason == RejectReason.OTHER and notes:
                message = f"{message} {notes[0]}"
            contribution_transition(contribution=c, to=S.REJECTED, action="moderation_rejected",
                                    reason_code=reason, message=message, extra={"rejections": len(rejects)})
            return "rejected"
    return "pending"


def escalation_resolve(*, admin: Any, contribution: Contribution, decision: str, reason_code: str | None = None,
                       note: str = "") -> Escalation:
    """An admin decides an escalated contribution: ``approve`` or ``reject`` (with a reason)."""
    if not is_admin(admin):
        raise ModerationError("forbidden", gettext("Only admins decide escalations."), status=403)
    if decision not in (Decision.APPROVE, Decision.REJECT):
        raise ModerationError("invalid_decision", gettext("An escalation is decided by approve or reject."), status=400)
    note = _clean_note(note)
    reason = reason_code or ""
    if decision == Decision.REJECT and reason not in RejectReason.values:
        raise ModerationError("invalid_reason", gettext("Choose a rejection reason."), status=400)
    if decision == Decision.REJECT and reason == RejectReason.OTHER and not note:
        raise ModerationError("note_required", gettext("Rejecting for 'other' needs a note saying why."), status=400)

    def resolve() -> Escalation:
        c = Contribution.objects.select_for_update().get(pk=contribution.pk)
        esc = Escalation.objects.filter(contribution=c, status=EscalationStatus.OPEN).first()
        if esc is None:
            raise ModerationError("no_open_escalation", gettext("This photo has no open escalation."), status=409)
        if c.owner_id == admin.pk:
            raise ModerationError("own_photo", gettext("You cannot decide on your own photo; ask another admin."), status=403)
        if c.status != S.AWAITING_REVIEW:
            raise ModerationError("not_awaiting_review", gettext("This photo is no longer awaiting review."), status=409)
        if decision == Decision.APPROVE:
            face_mark_on_approval(c, actor=admin)
            contribution_transition(contribution=c, to=S.APPROVED, actor=admin, action="escalation_approved",
                                    note=note, extra={"escalation": esc.pk})
        else:
            message = REJECT_MESSAGES.get(reason, "Moderators did not accept this photo.")
            if reason == RejectReason.OTHER:
                message = f"{message} {note}"
            contribution_transition(contribution=c, to=S.REJECTED, actor=admin, action="escalation_rejected",
                                    reason_code=reason, message=message, note=note, extra={"escalation": esc.pk})
        esc.status, esc.resolved_by, esc.resolved_at = EscalationStatus.RESOLVED, admin, timezone.now()
        esc.decision, esc.reason_code, esc.resolution_note = decision, reason, note
        esc.save(update_fields=["status", "resolved_by", "resolved_at", "decision", "reason_code", "resolution_note"])
        audit_record(actor=admin, action="escalation_resolved", obj=c, before={"escalation": "open"},
                     after={"decision": decision, **({"reason_code": reason} if reason else {})}, note=note)
        ReviewLease.objects.filter(contribution=c).delete()
        return esc

    result: Escalation = atomic_write(resolve)
    return result


def flag_resolve(*, admin: Any, flag: Any, note: str = "") -> Any:
    """Mark a flag resolved (a false positive), audit-logged."""
    if not is_moderator(admin):
        raise ModerationError("forbidden", gettext("Only moderators and admins resolve flags."), status=403)
    flag.resolved = True
    flag.save(update_fields=["resolved"])
    flag_changed.emit(contribution_id=flag.contribution_id, kind=flag.kind, resolved=True)
    audit_record(actor=admin, action="flag_resolved", obj=flag.contribution, after={"flag": flag.pk,
                                                                                     "kind": flag.kind}, note=note)
    return flag
