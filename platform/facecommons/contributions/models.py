"""Contributions (one photo of a contributor) and the versioned, self-declared taxonomy."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from facecommons.common.models import translated


class TaxonomyVersion(models.Model):
    """A version of the category taxonomy. Exactly one is current; contributions keep theirs."""

    version = models.PositiveIntegerField(unique=True)
    is_current = models.BooleanField(default=False)
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-version"]
        constraints = [models.UniqueConstraint(fields=["is_current"], condition=models.Q(is_current=True),
                                               name="one_current_taxonomy")]

    def __str__(self) -> str:
        return f"Taxonomy v{self.version}{' (current)' if self.is_current else ''}"


class Category(models.Model):
    taxonomy = models.ForeignKey(TaxonomyVersion, on_delete=models.CASCADE, related_name="categories")
    key = models.SlugField(max_length=40)
    label = models.CharField(max_length=100)
    help_text = models.CharField(max_length=300, blank=True)
    multiple = models.BooleanField(default=False, help_text="Several values may be chosen.")
    required = models.BooleanField(default=True)
    order = models.PositiveSmallIntegerField(default=0)
    # {language: {"label": ..., "help_text": ...}}, written in the admin. Shown before the
    # interface catalogue's translation of the English text, which comes before the English.
    translations = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["taxonomy", "order", "id"]
        constraints = [models.UniqueConstraint(fields=["taxonomy", "key"], name="category_key_per_taxonomy")]

    def __str__(self) -> str:
        return f"{self.label} (v{self.taxonomy.version})"

    # The labels are written in English (the seed's are catalogue entries); pages show them
    # in the reader's language through these, never the stored text or the key.
    @property
    def display_label(self) -> str:
        return translated(self.translations, "label") or (gettext(self.label) if self.label else "")

    @property
    def display_help_text(self) -> str:
        return translated(self.translations, "help_text") or (gettext(self.help_text) if self.help_text else "")


class CategoryValue(models.Model):
    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="values")
    key = models.SlugField(max_length=40)
    label = models.CharField(max_length=100)
    order = models.PositiveSmallIntegerField(default=0)
    swatch = models.CharField(max_length=7, blank=True, help_text="Hex colour shown as a swatch (skin tone).")
    free_text = models.BooleanField(default=False, help_text="Self-describe: the contributor types a description.")
    exclusive = models.BooleanField(default=False,
                                    help_text="Cannot be combined with other values (prefer not to say, none).")
    # {language: {"label": ...}}, written in the admin (see Category.translations).
    translations = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["category", "order", "id"]
        constraints = [models.UniqueConstraint(fields=["category", "key"], name="value_key_per_category")]

    def __str__(self) -> str:
        return f"{self.category.key}={self.key}"

    @property
    def display_label(self) -> str:
        return translated(self.translations, "label") or (gettext(self.label) if self.label else "")


class ContributionStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    PROCESSING = "processing", _("Processing")
    AWAITING_REVIEW = "awaiting_review", _("Awaiting review")
    # No face found even on the enhanced copy: the contributor decides (delete, retake, or ask
    # a person to check it). Not queued, not rejected.
    AWAITING_CONTRIBUTOR = "awaiting_contributor", _("Waiting for you")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    FAILED = "failed", _("Failed")


class Contribution(models.Model):
    """One photo of its contributor, with the categories they declared.

    The primary key is a random UUID so URLs are not guessable. The stored original is
    normalised (upright, sRGB, no metadata) and content-addressed by its SHA-256.
    Status changes go through ``contributions.services.contribution_transition`` only,
    which writes the audit log.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="contributions")
    status = models.CharField(max_length=20, choices=ContributionStatus.choices,
                              default=ContributionStatus.RECEIVED, db_index=True)
    status_changed_at = models.DateTimeField(auto_now_add=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    taxonomy = models.ForeignKey(TaxonomyVersion, on_delete=models.PROTECT, related_name="+")
    categories = models.JSONField(default=dict, help_text="category key -> value key, or list of keys")
    categories_free_text = models.JSONField(default=dict, blank=True,
                                            help_text="category key -> self-described text")
    corrected_categories = models.JSONField(default=dict, blank=True,
                                            help_text="moderator corrections: category key -> value(s)")

    sha256 = models.CharField(max_length=64, unique=True, help_text="SHA-256 of the stored normalised original")
    source_sha256 = models.CharField(max_length=64, db_index=True, help_text="SHA-256 of the bytes as uploaded")
    phash = models.CharField(max_length=16, db_index=True, help_text="64-bit perceptual hash, hex")
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    original_format = models.CharField(max_length=10)
    original_name = models.CharField(max_length=255, blank=True, help_text="sanitised original file name")
    byte_size = models.PositiveIntegerField()

    rejection_code = models.CharField(max_length=40, blank=True)
    rejection_message = models.TextField(blank=True)
    error = models.TextField(blank=True, help_text="unexpected processing error (status failed)")

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "created_at"]), models.Index(fields=["owner", "created_at"])]

    def __str__(self) -> str:
        return f"{self.id} ({self.status})"

    @property
    def effective_categories(self) -> dict:
        """Declared categories with moderator corrections applied."""
        return {**self.categories, **self.corrected_categories}


class FileVariant(models.TextChoices):
    ORIGINAL = "original", _("Original (normalised)")
    ENHANCED = "enhanced", _("Enhanced (low light)")
    THUMBNAIL = "thumbnail", _("Thumbnail")
    CROP = "crop", _("Aligned face crop 112x112")
    CROP224 = "crop224", _("Aligned face crop 224x224")


class ContributionFile(models.Model):
    """A stored file of a contribution. Keys are private storage paths, never public URLs."""

    contribution = models.ForeignKey(Contribution, on_delete=models.CASCADE, related_name="files")
    variant = models.CharField(max_length=12, choices=FileVariant.choices)
    key = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    content_type = models.CharField(max_length=40, default="image/jpeg")
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    byte_size = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["contribution", "variant"], name="one_file_per_variant")]

    def __str__(self) -> str:
        return f"{self.contribution_id}/{self.variant}"


class ReviewRequest(models.Model):
    """The contributor asked a person to look at a photo the pipeline did not queue (no face
    found, or rejected automatically). At most one per photo; the findings and route at the
    time of asking are kept, so the gatekeeper audit can count requests and overturns."""

    contribution = models.OneToOneField(Contribution, on_delete=models.CASCADE, primary_key=True,
                                        related_name="review_request")
    note = models.TextField(blank=True, help_text="the contributor's note to moderators (optional)")
    route = models.CharField(max_length=20, help_text="the pipeline's route when the review was asked for")
    findings = models.JSONField(default=list, blank=True, help_text="the pipeline's findings at that time")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return f"review request for {self.contribution_id}"
