"""Accounts: the user (email login), roles, versioned consent and its acceptances."""

from __future__ import annotations

import secrets
import uuid
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    CONTRIBUTOR = "contributor", _("Contributor")
    MODERATOR = "moderator", _("Moderator")
    RESEARCHER = "researcher", _("Researcher")
    ADMIN = "admin", _("Admin")


def _pseudonym() -> str:
    return "p-" + secrets.token_hex(5)


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra: Any) -> User:
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.update(is_staff=True, is_superuser=True)
        return self._create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person on the platform. Logs in by email. Roles are Django groups (see roles.py)."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    email = models.EmailField(unique=True)
    # Shown to moderators instead of any identifying detail.
    pseudonym = models.CharField(max_length=20, unique=True, default=_pseudonym, editable=False)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)
    withdrawn_at = models.DateTimeField(null=True, blank=True,
                                        help_text="Set when the person withdrew consent; the account is closed.")
    # The categories declared on the last upload, to pre-fill the next one.
    last_declared_categories = models.JSONField(default=dict, blank=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []  # type: ignore[misc]  # email is the USERNAME_FIELD

    def __str__(self) -> str:
        return self.email

    def has_role(self, role: Role | str) -> bool:
        from facecommons.accounts.roles import user_has_role

        return user_has_role(self, role)


class ConsentVersion(models.Model):
    """A version of the consent text. The current one is the latest published version."""

    version = models.PositiveIntegerField(unique=True)
    title = models.CharField(max_length=200, default="Consent to take part")
    text = models.TextField()
    published_at = models.DateTimeField(null=True, blank=True,
                                        help_text="Leave empty for a draft; the latest published version is current.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-version"]

    def __str__(self) -> str:
        return f"Consent v{self.version}"


class ConsentAcceptance(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="consents")
    version = models.ForeignKey(ConsentVersion, on_delete=models.PROTECT, related_name="acceptances")
    accepted_at = models.DateTimeField(default=timezone.now)
    adult_confirmed = models.BooleanField()
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-accepted_at"]
        constraints = [models.UniqueConstraint(fields=["user", "version"], name="one_acceptance_per_version")]

    def __str__(self) -> str:
        return f"{self.user_id} accepted v{self.version.version} at {self.accepted_at:%Y-%m-%d}"
