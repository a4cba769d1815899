"""Models shared by every app: the append-only audit log and the versioned text that consent
and the data-use agreement are written in."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Self

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language


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

    def localized(self, language: str | None = None) -> LocalizedText:
        """The text in ``language`` (default: the active one) if translated, else the original
        (English) with ``fallback`` set, so the page can say so. Reads ``self.translations``
        (prefetch it when showing many versions)."""
        wanted = language_candidates(language or get_language() or SOURCE_LANGUAGE)
        if wanted[0] != SOURCE_LANGUAGE:
            by_language = {t.language: t for t in self.translations.all()}  # type: ignore[attr-defined]
            for code in wanted:
                if code in by_language:
                    t = by_language[code]
                    return LocalizedText(title=t.title, text=t.text, language=t.language, fallback=False)
        return LocalizedText(title=self.title, text=self.text, language=SOURCE_LANGUAGE,
                             fallback=wanted[0] != SOURCE_LANGUAGE)

    def shown_languages(self) -> set[str]:
        """The languages this version can be read (and so accepted) in."""
        return {SOURCE_LANGUAGE, *(t.language for t in self.translations.all())}  # type: ignore[attr-defined]


# The language texts are written in first (the admin's main fields); translations are rows.
SOURCE_LANGUAGE = "en"


def language_candidates(code: str) -> list[str]:
    """``pt-br`` -> ["pt-br", "pt"]: the exact language, then its base language."""
    code = code.lower().replace("_", "-")
    base = code.split("-")[0]
    return [code] if base == code else [code, base]


def translation_languages() -> list[tuple[str, str]]:
    """The shipped languages a text can be translated into (all but the source language)."""
    return [(code, name) for code, name in settings.LANGUAGES if code != SOURCE_LANGUAGE]


@dataclass(frozen=True)
class LocalizedText:
    title: str
    text: str
    language: str
    # True when the reader's language has no translation and the original is shown.
    fallback: bool


class TextTranslation(models.Model):
    """A translation of one version of a ``VersionedText``. Concrete models add ``parent``
    (a foreign key with ``related_name="translations"``). Like the version itself, a
    translation of a published version is evidence of what was read: it is frozen in the
    admin once saved (see ``common.admin.TextTranslationInline``)."""

    language = models.CharField(max_length=10, choices=translation_languages)
    title = models.CharField(max_length=200)
    text = models.TextField(help_text="Keep the paragraphs and list items of the original, in the same order.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True
        ordering = ["language"]

    def __str__(self) -> str:
        return f"{self.language}: {self.title}"


def translated(translations: dict[str, Any] | None, field: str) -> str | None:
    """The admin's translation of ``field`` in the active language from a JSON map
    ``{language: {field: text}}`` (the taxonomy's labels), or None when there is none."""
    if not translations:
        return None
    for code in language_candidates(get_language() or SOURCE_LANGUAGE):
        value = (translations.get(code) or {}).get(field)
        if value:
            return str(value)
    return None
