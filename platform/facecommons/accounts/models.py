"""Accounts: the user (email login), roles, versioned consent and its acceptances."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.utils import timezone
from django.utils.crypto import salted_hmac

from facecommons.accounts.roles import Role, user_has_role
from facecommons.common.models import SOURCE_LANGUAGE, TextTranslation, VersionedText


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
    # Raised by "log out everywhere": it is part of the session hash and of every API
    # token's binding, so each session and token issued before stops working at once.
    auth_epoch = models.PositiveIntegerField(default=0)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []  # type: ignore[misc]  # email is the USERNAME_FIELD

    def __str__(self) -> str:
        return self.email

    def get_session_auth_hash(self) -> str:
        return self._auth_hash()

    def get_session_auth_fallback_hash(self) -> Iterator[str]:
        for fallback_secret in settings.SECRET_KEY_FALLBACKS:
            yield self._auth_hash(secret=fallback_secret)

    def _auth_hash(self, secret: str | bytes | None = None) -> str:
        """Django's HMAC of the password hash, with the epoch mixed in once it was raised
        (epoch 0 gives Django's own value, so sessions from before this field stay valid).
        A password change, a reset or "log out everywhere" changes it."""
        value = self.password if not self.auth_epoch else f"{self.password}\x00{self.auth_epoch}"
        return salted_hmac("django.contrib.auth.models.AbstractBaseUser.get_session_auth_hash", value,
                           secret=secret, algorithm="sha256").hexdigest()

    def has_role(self, role: Role | str) -> bool:
        return user_has_role(self, role)


class ConsentVersion(VersionedText):
    """A version of the consent text. The current one is the latest published version."""

    title = models.CharField(max_length=200, default="Consent to take part")
    # For the comprehension check (accounts/comprehension.py): which paragraph or list item
    # answers each question, counted from 1 over the text's paragraphs and list items.
    check_passages = models.JSONField(
        default=dict, blank=True,
        help_text='Which paragraph or list item (counting from 1) answers each comprehension question, e.g. '
                  '{"collected": 1, "download": 4, "withdraw": 6}. A wrong answer shows that passage again.')

    class Meta(VersionedText.Meta):
        pass

    def __str__(self) -> str:
        return f"Consent v{self.version}"


class ConsentTranslation(TextTranslation):
    parent = models.ForeignKey(ConsentVersion, on_delete=models.CASCADE, related_name="translations")

    class Meta(TextTranslation.Meta):
        constraints = [models.UniqueConstraint(fields=["parent", "language"], name="one_consent_translation_per_language")]


class ConsentAcceptance(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="consents")
    version = models.ForeignKey(ConsentVersion, on_delete=models.PROTECT, related_name="acceptances")
    accepted_at = models.DateTimeField(default=timezone.now)
    adult_confirmed = models.BooleanField()
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    # The language of the text the person read and accepted (its translation, or the original).
    language = models.CharField(max_length=10, default=SOURCE_LANGUAGE)

    class Meta:
        ordering = ["-accepted_at"]
        constraints = [models.UniqueConstraint(fields=["user", "version"], name="one_acceptance_per_version")]

    def __str__(self) -> str:
        return f"{self.user_id} accepted v{self.version.version} at {self.accepted_at:%Y-%m-%d}"


class ComprehensionCheck(models.Model):
    """The comprehension check a person took before their first consent: one per person,
    updated at each attempt. Evidence that the consent was understood, in which language
    and after how many tries (``wrong`` counts the wrong answers per question)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="comprehension_check")
    version = models.ForeignKey(ConsentVersion, on_delete=models.PROTECT, related_name="+")
    language = models.CharField(max_length=10, default=SOURCE_LANGUAGE)
    attempts = models.PositiveSmallIntegerField(default=0)
    wrong = models.JSONField(default=dict, blank=True)
    passed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        state = f"passed {self.passed_at:%Y-%m-%d}" if self.passed_at else "not passed yet"
        return f"{self.user_id}: {state} after {self.attempts} attempt(s)"


API_TOKEN_PREFIX = "fct_"  # noqa: S105 - a public prefix, not a secret


class ApiToken(models.Model):
    """An API token from ``/api/v1/auth/token/`` or the account page (``Authorization: Token``).

    Only a SHA-256 of the key is stored; the key is shown once. ``auth_hash`` is the user's
    session hash when it was issued: a password change or reset, or "log out everywhere",
    changes that hash, and every token bound to the old one stops working.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    key_hash = models.CharField(max_length=64, unique=True)
    # The first characters of the key, so the owner can tell tokens apart.
    prefix = models.CharField(max_length=16)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(db_index=True)
    auth_hash = models.CharField(max_length=128)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
