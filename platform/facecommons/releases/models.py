"""Researcher access (applications, data-use agreements, personal tokens) and dataset snapshots.

A published snapshot never changes: its archive, checksums and entry list are fixed at
publication. Only withdrawals are recorded beside it afterwards (``Withdrawal`` rows and the
``withdrawn.csv`` written next to the archive).
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from facecommons.common.models import SOURCE_LANGUAGE, TextTranslation, VersionedText


class DataUseAgreement(VersionedText):
    """A version of the data-use agreement. The current one is the latest published version;
    publishing a new version means every researcher must accept it again before downloading."""

    title = models.CharField(max_length=200, default="Face Commons data-use agreement")

    class Meta(VersionedText.Meta):
        pass

    def __str__(self) -> str:
        return f"Data-use agreement v{self.version}"


class AgreementTranslation(TextTranslation):
    parent = models.ForeignKey(DataUseAgreement, on_delete=models.CASCADE, related_name="translations")

    class Meta(TextTranslation.Meta):
        constraints = [models.UniqueConstraint(fields=["parent", "language"],
                                               name="one_agreement_translation_per_language")]


class AgreementAcceptance(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="agreement_acceptances")
    agreement = models.ForeignKey(DataUseAgreement, on_delete=models.PROTECT, related_name="acceptances")
    accepted_at = models.DateTimeField(default=timezone.now)
    # The language of the text the researcher read and accepted.
    language = models.CharField(max_length=10, default=SOURCE_LANGUAGE)

    class Meta:
        ordering = ["-accepted_at"]
        constraints = [models.UniqueConstraint(fields=["user", "agreement"], name="one_acceptance_per_agreement")]

    def __str__(self) -> str:
        return f"{self.user_id} accepted DUA v{self.agreement.version}"


class ApplicationStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    APPROVED = "approved", _("Approved")
    REFUSED = "refused", _("Refused")


class ResearcherApplication(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="researcher_applications")
    name = models.CharField(max_length=200)
    institution = models.CharField(max_length=300)
    purpose = models.TextField()
    agreement = models.ForeignKey(DataUseAgreement, on_delete=models.PROTECT, related_name="+",
                                  help_text="The agreement version accepted with the application.")
    status = models.CharField(max_length=10, choices=ApplicationStatus.choices, default=ApplicationStatus.PENDING,
                              db_index=True)
    reason = models.TextField(blank=True, help_text="Why the application was refused (sent to the applicant).")
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.institution}): {self.status}"


TOKEN_PREFIX = "fcr_"  # noqa: S105 - a public prefix, not a secret


class ResearcherToken(models.Model):
    """A personal API token. Only a SHA-256 of the key is stored; the key is shown once."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="researcher_tokens")
    name = models.CharField(max_length=100)
    key_hash = models.CharField(max_length=64, unique=True)
    # The first characters of the key, so the owner can tell tokens apart.
    prefix = models.CharField(max_length=16)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


def _subject_id() -> str:
    return "s-" + secrets.token_hex(8)


new_subject_id = _subject_id  # public name (the field's default keeps the name its migration knows)


class Subject(models.Model):
    """The pseudonymous identity of a person in every snapshot: random, never the account id,
    stable across snapshots so that person-disjoint splits stay meaningful between versions."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="release_subject")
    subject_id = models.CharField(max_length=40, unique=True, default=_subject_id, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.subject_id


class SnapshotStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    BUILDING = "building", _("Building")
    PUBLISHED = "published", _("Published")
    FAILED = "failed", _("Failed")


class Snapshot(models.Model):
    version = models.CharField(max_length=20, unique=True, help_text="YYYY.MM.N: sorts by date")
    status = models.CharField(max_length=10, choices=SnapshotStatus.choices, default=SnapshotStatus.PENDING,
                              db_index=True)
    cutoff_at = models.DateTimeField(help_text="Photos approved, with consent in force, at this time are included.")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    previous = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                                 help_text="The snapshot the changelog compares against.")
    purge_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="purges",
                                 help_text="Set for a purged rebuild issued after withdrawals from that snapshot.")
    note = models.CharField(max_length=200, blank=True)
    # Progress of the build, polled by the page.
    phase = models.CharField(max_length=40, blank=True)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    # The immutable archive.
    archive_key = models.CharField(max_length=255, blank=True)
    archive_size = models.BigIntegerField(default=0)
    archive_sha256 = models.CharField(max_length=64, blank=True,
                                      help_text="Only for snapshots built before manifests (a stored tar).")
    counts = models.JSONField(default=dict, blank=True)
    # The immutable manifest: one line per file (sha256, size, path), sorted by path, stored as a
    # blob; its SHA-256 names the version's content. The files themselves are blobs, stored once.
    manifest_sha256 = models.CharField(max_length=64, blank=True)
    manifest_files = models.PositiveIntegerField(default=0)
    manifest_bytes = models.BigIntegerField(default=0, help_text="the total size of the files it lists")
    # path -> [sha256, size] of the documents (metadata files, datasheet, croissant...).
    documents = models.JSONField(default=dict, blank=True)
    # Internal, never published: what the next version's build starts from (the taxonomy schema,
    # the raw composition counters, photos per stratum and split). See ``releases.build``.
    build_state = models.JSONField(default=dict, blank=True, editable=False)
    # Withdrawals recorded after publication (the only thing that changes beside the archive).
    withdrawals_count = models.PositiveIntegerField(default=0)
    withdrawn_updated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        get_latest_by = "created_at"
        constraints = [
            # One build at a time, enforced by the database (two requests racing both pass a read).
            models.UniqueConstraint(
                models.Case(models.When(status__in=["pending", "building"], then=models.Value(True)),
                            default=None, output_field=models.BooleanField()),
                name="one_active_snapshot_build"),
        ]

    def __str__(self) -> str:
        return f"snapshot {self.version} ({self.status})"

    @property
    def is_published(self) -> bool:
        return self.status == SnapshotStatus.PUBLISHED

    @property
    def archive_name(self) -> str:
        return f"facecommons-{self.version}.tar"


class Split(models.TextChoices):
    TRAIN = "train", "train"
    VALIDATION = "validation", "validation"
    TEST = "test", "test"


class SnapshotEntry(models.Model):
    """One photo in a snapshot. ``contribution_id`` is not a foreign key: the contribution may
    be deleted later (withdrawal), and the entry must stay to say what the snapshot held."""

    snapshot = models.ForeignKey(Snapshot, on_delete=models.CASCADE, related_name="entries")
    contribution_id = models.UUIDField(db_index=True)
    subject_id = models.CharField(max_length=40, db_index=True)
    split = models.CharField(max_length=10, choices=Split.choices)
    seq = models.PositiveIntegerField(default=0, help_text="position of the photo in the archive")
    sha256 = models.CharField(max_length=64)
    file_name = models.CharField(max_length=120, help_text="path of the image inside the snapshot")
    extra_files = models.JSONField(default=list, blank=True, help_text="the face crops' paths inside the snapshot")
    byte_size = models.BigIntegerField(default=0)
    # What subsets filter on: effective categories, low_light, enhanced, detector_missed.
    attributes = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["snapshot", "contribution_id"], name="one_entry_per_photo")]
        indexes = [models.Index(fields=["snapshot", "sha256"])]

    def __str__(self) -> str:
        return f"{self.snapshot_id}:{self.file_name}"


class Blob(models.Model):
    """A file stored once, by the SHA-256 of its bytes, under ``releases/blobs/``; every snapshot
    that lists it shares it. ``contribution_id`` ties images and crops to their photo, so that a
    withdrawal deletes them from the store (documents have none)."""

    sha256 = models.CharField(max_length=64, primary_key=True)
    size = models.BigIntegerField()
    contribution_id = models.UUIDField(null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True, help_text="bytes deleted after a withdrawal")

    def __str__(self) -> str:
        return self.sha256


class Withdrawal(models.Model):
    """A photo of a published snapshot whose contributor withdrew (or which was deleted) after
    publication: researchers must delete the files listed here."""

    snapshot = models.ForeignKey(Snapshot, on_delete=models.CASCADE, related_name="withdrawals")
    subject_id = models.CharField(max_length=40)
    contribution_id = models.UUIDField()
    file_names = models.JSONField(default=list)
    reason = models.CharField(max_length=20, default="withdrawn")
    withdrawn_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["withdrawn_at", "id"]
        constraints = [models.UniqueConstraint(fields=["snapshot", "contribution_id"], name="one_withdrawal_per_photo")]

    def __str__(self) -> str:
        return f"{self.snapshot_id}: {self.subject_id} ({self.reason})"


class DownloadKind(models.TextChoices):
    ARCHIVE = "archive", "whole archive"
    FILE = "file", "one file"
    MANIFEST = "manifest", "manifest"
    DELTA = "delta", "delta"
    METADATA = "metadata", "metadata only"
    SUBSET = "subset", "filtered subset"
    REMOVALS = "removals", "removal manifest"


class Download(models.Model):
    """Every download from a snapshot, of every kind (a resumed download logs one row per request)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    user_label = models.CharField(max_length=254, blank=True)
    snapshot = models.ForeignKey(Snapshot, on_delete=models.PROTECT, related_name="downloads")
    token = models.ForeignKey(ResearcherToken, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    started_at = models.DateTimeField(default=timezone.now, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    address = models.GenericIPAddressField(null=True, blank=True)
    range_header = models.CharField(max_length=100, blank=True)
    status_code = models.PositiveSmallIntegerField(default=200)
    bytes_requested = models.BigIntegerField(default=0)
    bytes_sent = models.BigIntegerField(default=0)
    served_by = models.CharField(max_length=20, default="django", help_text="django, x-accel or storage-url")
    kind = models.CharField(max_length=10, choices=DownloadKind.choices, default=DownloadKind.ARCHIVE)
    detail = models.CharField(max_length=300, blank=True, help_text="the file, filter or base version asked for")

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"{self.user_label} {self.snapshot_id} {self.started_at:%Y-%m-%d %H:%M}"


class ResearcherNotice(models.Model):
    """A notice on the researcher's page (withdrawals from a snapshot they downloaded)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="researcher_notices")
    snapshot = models.ForeignKey(Snapshot, on_delete=models.CASCADE, related_name="+")
    message = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"notice for {self.user_id}: {self.message[:40]}"


class RemovalAcknowledgement(models.Model):
    """A researcher who downloaded a snapshot must confirm having applied its removal manifest
    (the signed list of withdrawn files). Reminders go out until they do."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="removal_acks")
    snapshot = models.ForeignKey(Snapshot, on_delete=models.CASCADE, related_name="removal_acks")
    withdrawals = models.PositiveIntegerField(default=0, help_text="withdrawals known when this was (re)opened")
    created_at = models.DateTimeField(default=timezone.now)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_digest = models.CharField(max_length=64, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    reminders = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["acknowledged_at", "-created_at"]
        constraints = [models.UniqueConstraint(fields=["user", "snapshot"], name="one_removal_ack_per_snapshot")]

    def __str__(self) -> str:
        state = "acknowledged" if self.acknowledged_at else "pending"
        return f"{self.user_id} / {self.snapshot_id}: {state}"
