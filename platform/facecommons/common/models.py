"""Models shared by every app: the append-only audit log and the versioned text that consent
and the data-use agreement are written in."""

from __future__ import annotations

from typing import Any, Self

from django.conf import settings
from django.db import models
from django.utils import timezone


class AuditEvent(models.Model):
    """One entry of the append-only audit log: who did what to which object, before/after.

    Rows are never updated or deleted by the application (``save`` refuses updates and
    ``delete`` refuses); status changes of contributions, every moderation action, admin
    decision and download write one.
    """

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    # Pseudonymous label of the actor kept even if the account is later deleted.
    actor_label = models.CharField(max_length=100, blank=True)
    action = models.CharField(max_length=64, db_index=True)
    object_type = models.CharField(max_length=64, db_index=True)
    object_id = models.CharField(max_length=64, db_index=True)
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id", "created_at"])]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.actor_label or 'system'} {self.action} {self.object_type}:{self.object_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not kwargs.get("force_insert"):
            raise PermissionError("The audit log is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise PermissionError("The audit log is append-only.")


class VersionedText(models.Model):
    """A text people accept, in numbered versions: the consent (accounts) and the data-use
    agreement (releases). The current version is the latest published one; a published
    version is evidence of what was accepted and is never edited (publish a new one).

    Concrete models set ``title``'s default and ``__str__``; their acceptances point at them.
    """

    version = models.PositiveIntegerField(unique=True)
    title = models.CharField(max_length=200)
    text = models.TextField()
    published_at = models.DateTimeField(null=True, blank=True,
                                        help_text="Leave empty for a draft; the latest published version is current.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True
        ordering = ["-version"]

    @classmethod
    def current(cls) -> Self | None:
        """The latest version published at or before now, or None."""
        return (cls._default_manager.filter(published_at__isnull=False, published_at__lte=timezone.now())
                .order_by("-version").first())

    @property
    def is_published(self) -> bool:
        return self.published_at is not None
