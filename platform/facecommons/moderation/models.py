"""Moderation: reviews, queue leases, escalations, abuse flags and face embeddings.

Leases live here, not on ``Contribution``: the queue is moderation's business, and the
lease row's unique constraint is what makes two moderators never hold the same photo.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from facecommons.contributions.models import Contribution


class Decision(models.TextChoices):
    APPROVE = "approve", _("Approve")
    REJECT = "reject", _("Reject")
    CORRECT = "correct", _("Approve with corrected categories")
    SKIP = "skip", _("Skip")
    ESCALATE = "escalate", _("Escalate to an admin")


class RejectReason(models.TextChoices):
    NOT_ONE_CLEAR_FACE = "not_one_clear_face", _("Not one clear face")
    SEVERAL_PEOPLE = "several_people", _("Several people")
    INAPPROPRIATE = "inappropriate", _("Inappropriate")
    POOR_QUALITY = "poor_quality", _("Poor quality")
    CATEGORIES_WRONG = "categories_wrong", _("Categories clearly wrong")
    DUPLICATE = "duplicate", _("Duplicate")
    APPEARS_MINOR = "appears_minor", _("Appears to be a minor")
    OTHER = "other", _("Other (with a note)")


# What the contributor reads in My photos. Stored in English on the contribution (the record
# must not depend on the moderator's language) and translated when shown.
REJECT_MESSAGES: dict[str, str] = {
    RejectReason.NOT_ONE_CLEAR_FACE: gettext_noop("Moderators could not see one clear face in this photo."),
    RejectReason.SEVERAL_PEOPLE: gettext_noop("More than one person is visible in this photo; each photo must show only you."),
    RejectReason.INAPPROPRIATE: gettext_noop("This photo is not appropriate for the dataset."),
    RejectReason.POOR_QUALITY: gettext_noop("The photo quality is too low (blur, darkness or size) to be useful."),
    RejectReason.CATEGORIES_WRONG: gettext_noop("The declared categories clearly do not match the photo."),
    RejectReason.DUPLICATE: gettext_noop("This photo duplicates (or nearly duplicates) another photo in Face Commons."),
    RejectReason.APPEARS_MINOR: gettext_noop("The person in this photo appears to be under 18; only adults may take part."),
    RejectReason.OTHER: gettext_noop("Moderators did not accept this photo."),
}


class Review(models.Model):
    """One moderator's decision on one contribution (at most one each)."""

    contribution = models.ForeignKey(Contribution, on_delete=models.CASCADE, related_name="reviews")
    moderator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reviews")
    decision = models.CharField(max_length=10, choices=Decision.choices)
    reason_code = models.CharField(max_length=30, choices=RejectReason.choices, blank=True)
    note = models.TextField(blank=True)
    corrected_categories = models.JSONField(default=dict, blank=True)
    # Where the detector found no face, an approval marks it: [x1, y1, x2, y2] in pixels of
    # the stored original; the crops are cut from it when the photo is approved.
    face_box = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["contribution", "moderator"], name="one_review_per_moderator")]
        indexes = [models.Index(fields=["moderator", "contribution"])]
        permissions = [("review", "Can review contributions in the moderation queue")]

    def __str__(self) -> str:
        return f"{self.moderator_id} {self.decision} {self.contribution_id}"


class ReviewLease(models.Model):
    """Who holds a contribution in the queue, until when. One row per contribution at most.

    Taking a lease is an insert (fails on the unique constraint while another row exists) or a
    conditional update of an expired row, so it is atomic on every database.
    """

    contribution = models.OneToOneField(Contribution, on_delete=models.CASCADE, related_name="review_lease")
    moderator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    leased_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.contribution_id} held by {self.moderator_id} until {self.expires_at:%H:%M:%S}"


# Why an escalation was opened (Escalation.reason), as an admin reads it.
ESCALATION_REASONS: dict[str, str | Promise] = {
    "disagreement": _("Moderators disagreed (one approved, one rejected)"),
    "moderator_escalated": _("A moderator asked an admin to decide"),
    "reject_reasons_differ": _("Moderators rejected it for different reasons"),
}


class EscalationStatus(models.TextChoices):
    OPEN = "open", _("Open")
    RESOLVED = "resolved", _("Resolved")


class Escalation(models.Model):
    """A contribution an admin must decide: moderators disagreed, or one escalated."""

    contribution = models.ForeignKey(Contribution, on_delete=models.CASCADE, related_name="escalations")
    status = models.CharField(max_length=10, choices=EscalationStatus.choices, default=EscalationStatus.OPEN)
    reason = models.CharField(max_length=40, help_text="disagreement, moderator_escalated, reject_reasons_differ")
    raised_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                  related_name="+")
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    resolved_at = models.DateTimeField(null=True, blank=True)
    decision = models.CharField(max_length=10, blank=True)
    reason_code = models.CharField(max_length=30, blank=True)
    resolution_note = models.TextField(blank=True)

    class Meta:
        ordering = ["created_at"]
        constraints = [models.UniqueConstraint(fields=["contribution"], condition=models.Q(status="open"),
                                               name="one_open_escalation")]

    def __str__(self) -> str:
        return f"escalation of {self.contribution_id} ({self.status})"


class FlagKind(models.TextChoices):
    NEAR_DUPLICATE = "near_duplicate", _("Near-duplicate photo")
    SAME_FACE = "same_face", _("Same face under another account")
    INCONSISTENT_DECLARATION = "inconsistent_declaration", _("Declarations differ between own photos")


class ContributionFlag(models.Model):
    """An abuse or duplicate signal shown to moderators. Rewards treat unresolved
    ``near_duplicate``/``same_face`` flags as not earning."""

    contribution = models.ForeignKey(Contribution, on_delete=models.CASCADE, related_name="flags")
    kind = models.CharField(max_length=30, choices=FlagKind.choices, db_index=True)
    related_contribution = models.ForeignKey(Contribution, null=True, blank=True, on_delete=models.CASCADE,
                                             related_name="+")
    score = models.FloatField(default=0.0, help_text="distance (Hamming bits, embedding distance) or step gap")
    detail = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    resolved = models.BooleanField(default=False)

    class Meta:
        ordering = ["created_at"]
        constraints = [models.UniqueConstraint(fields=["contribution", "kind", "related_contribution"],
                                               name="one_flag_per_pair")]

    def __str__(self) -> str:
        return f"{self.kind} on {self.contribution_id}"


class PhotoHash(models.Model):
    """The 64-bit perceptual hash split into four 16-bit bands, each indexed.

    Multi-index hashing: if two hashes differ in at most 8 bits, then (pigeonhole) one of the
    four 16-bit bands differs in at most 2 bits, so the candidates are the rows whose band i
    is within Hamming distance 2 of ours for some i (1 + 16 + 120 = 137 values per band).
    """

    contribution = models.OneToOneField(Contribution, on_delete=models.CASCADE, primary_key=True,
                                        related_name="photo_hash")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    phash = models.BigIntegerField(help_text="signed 64-bit value of the hex hash")
    band0 = models.IntegerField(db_index=True)
    band1 = models.IntegerField(db_index=True)
    band2 = models.IntegerField(db_index=True)
    band3 = models.IntegerField(db_index=True)

    def __str__(self) -> str:
        return f"phash of {self.contribution_id}"


class FaceEmbedding(models.Model):
    """The face embedding of a contribution under one verifier model/version."""

    contribution = models.ForeignKey(Contribution, on_delete=models.CASCADE, related_name="face_embeddings")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    model_id = models.CharField(max_length=40)
    version = models.CharField(max_length=80)
    vector = models.BinaryField(help_text="float32 little-endian")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["contribution", "model_id", "version"],
                                               name="one_embedding_per_model")]
        indexes = [models.Index(fields=["model_id", "version"])]

    def __str__(self) -> str:
        return f"{self.model_id} embedding of {self.contribution_id}"
