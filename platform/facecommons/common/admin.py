"""Admin of the common app, the one read-only admin every app uses for rows that only services
write (audit events, ledger entries, snapshot records, pipeline results), and the versioned-text admin."""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest
from django.utils import timezone

from facecommons.common.audit import audit_record
from facecommons.common.models import AuditEvent
from facecommons.common.text import text_items


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows are shown, never added or changed here; deleted only where ``allow_delete`` says so
    (a cache row, say). Works for inlines too (``obj`` in ``has_add_permission``)."""

    allow_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.allow_delete and super().has_delete_permission(request, obj)


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "actor_label", "action", "object_type", "object_id")
    list_filter = ("action", "object_type")
    search_fields = ("object_id", "actor_label", "note")
    date_hierarchy = "created_at"


class VersionedTextAdmin(admin.ModelAdmin):
    """Admin of a ``VersionedText`` (consent, data-use agreement): drafts are edited, then
    published by the action; a published version is what people accepted, so it is read-only
    and cannot be deleted. Subclasses set ``published_action`` (the audit log's action)."""

    list_display = ("version", "title", "published_at", "is_current", "acceptance_count", "created_at")
    ordering = ("-version",)
    actions = ["publish"]
    search_fields = ("title", "text")
    published_action = "text_published"

    def get_readonly_fields(self, request, obj=None):  # type: ignore[no-untyped-def]
        if obj is not None and obj.published_at is not None:
            return ("version", "title", "text", "published_at", "created_at")
        return ("created_at",)

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return obj is None or obj.published_at is None

    @admin.display(boolean=True, description="Current")
    def is_current(self, obj) -> bool:  # type: ignore[no-untyped-def]
        current = type(obj).current()
        return current is not None and current.pk == obj.pk

    @admin.display(description="Acceptances")
    def acceptance_count(self, obj) -> int:  # type: ignore[no-untyped-def]
        return int(obj.acceptances.count())

    @admin.action(description="Publish (becomes the current version; everyone must accept it again)")
    def publish(self, request, queryset):  # type: ignore[no-untyped-def]
        drafts = list(queryset.filter(published_at__isnull=True).order_by("version"))
        if not drafts:
            self.message_user(request, "Only drafts can be published; nothing changed.", messages.WARNING)
            return
        now = timezone.now()
        for v in drafts:
            v.published_at = now
            v.save(update_fields=["published_at"])
            audit_record(actor=request.user, action=self.published_action, obj=v, after={"version": v.version})
        self.message_user(request, f"Published version(s) {', '.join(str(v.version) for v in drafts)}.",
                          messages.SUCCESS)


class TextTranslationForm(forms.ModelForm):
    """One translation of a version. Once saved on a published version it is what people
    read and accepted, so it is shown disabled (a correction is a new version)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        parent = self.instance.parent if self.instance.pk else None
        if parent is not None and parent.published_at is not None:
            for field in self.fields.values():
                field.disabled = True

    def clean(self) -> dict[str, Any]:
        data: dict[str, Any] = super().clean() or {}
        parent = self.instance.parent if self.instance.parent_id else None
        text = data.get("text")
        if parent is not None and text and self.has_changed():
            # Item n of every language is the same passage (the comprehension check shows it).
            want, got = len(text_items(parent.text)), len(text_items(text))
            if want != got:
                self.add_error("text", f"The original has {want} paragraphs and list items and this translation "
                                       f"has {got}: keep the same ones, in the same order (blank lines between "
                                       "paragraphs, “- ” before list items).")
        return data


class TextTranslationInline(admin.StackedInline):
    """The translations of a ``VersionedText``, one per shipped language, edited with it.
    A translation can be added to a published version (translators often come later), but
    not changed or removed afterwards."""

    form = TextTranslationForm
    extra = 0
    fields = ("language", "title", "text")

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return obj is None or obj.published_at is None  # obj is the parent version
