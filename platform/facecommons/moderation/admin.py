"""Admin registration of every moderation model (read-mostly: the services write them)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from facecommons.moderation.events import flag_changed
from facecommons.moderation.models import (
    ContributionFlag,
    Escalation,
    FaceEmbedding,
    PhotoHash,
    Review,
    ReviewLease,
)


@admin.register(Review)
class ReviewAdmin(admin.ModelAdmin):
    list_display = ["contribution", "moderator", "decision", "reason_code", "created_at"]
    list_filter = ["decision", "reason_code"]
    readonly_fields = [f.name for f in Review._meta.fields]

    def has_add_permission(self, request):  # decisions go through review_decide (audit log, consensus)
        return False


@admin.register(ReviewLease)
class ReviewLeaseAdmin(admin.ModelAdmin):
    list_display = ["contribution", "moderator", "leased_at", "expires_at"]
    readonly_fields = ["contribution", "moderator", "leased_at", "expires_at"]

    def has_add_permission(self, request):
        return False


@admin.register(Escalation)
class EscalationAdmin(admin.ModelAdmin):
    list_display = ["contribution", "status", "reason", "created_at", "resolved_by", "decision"]
    list_filter = ["status", "reason"]
    readonly_fields = [f.name for f in Escalation._meta.fields]

    def has_add_permission(self, request):  # resolved on /moderation/escalations/ (audit-logged)
        return False


@admin.register(ContributionFlag)
class ContributionFlagAdmin(admin.ModelAdmin):
    list_display = ["contribution", "kind", "related_contribution", "score", "resolved", "created_at"]
    list_filter = ["kind", "resolved"]
    readonly_fields = ["contribution", "kind", "related_contribution", "score", "detail", "created_at"]

    def save_model(self, request: HttpRequest, obj: ContributionFlag, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        # In the admin's transaction: resolving (or re-opening) a duplicate flag moves points.
        if "resolved" in form.changed_data:
            flag_changed.emit(contribution_id=obj.contribution_id, kind=obj.kind, resolved=obj.resolved)


@admin.register(PhotoHash)
class PhotoHashAdmin(admin.ModelAdmin):
    list_display = ["contribution", "owner", "band0", "band1", "band2", "band3"]
    readonly_fields = ["contribution", "owner", "phash", "band0", "band1", "band2", "band3"]


@admin.register(FaceEmbedding)
class FaceEmbeddingAdmin(admin.ModelAdmin):
    list_display = ["contribution", "model_id", "version", "created_at"]
    readonly_fields = ["contribution", "owner", "model_id", "version", "created_at"]
    exclude = ["vector"]
