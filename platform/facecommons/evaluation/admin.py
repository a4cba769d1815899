from django.contrib import admin

from facecommons.common.admin import ReadOnlyAdmin
from facecommons.evaluation.models import (
    CurveResult,
    EvaluationChunk,
    EvaluationItem,
    EvaluationRun,
    ExternalImage,
    ExternalSource,
    MetricResult,
    ModelResult,
)


@admin.register(ExternalSource)
class ExternalSourceAdmin(admin.ModelAdmin):
    list_display = ("name", "format", "image_count", "licence", "imported_at")
    readonly_fields = ("image_count", "skipped", "imported_at", "updated_at")


@admin.register(ExternalImage)
class ExternalImageAdmin(admin.ModelAdmin):
    list_display = ("original_name", "source", "subject", "sha256")
    list_filter = ("source",)
    search_fields = ("original_name", "subject", "sha256")
    readonly_fields = ("key", "sha256", "width", "height", "created_at")


@admin.register(ModelResult)
class ModelResultAdmin(ReadOnlyAdmin):
    list_display = ("content_sha256", "model_id", "model_version", "variant", "task", "created_at")
    list_filter = ("model_id", "task", "variant")
    search_fields = ("content_sha256",)
    exclude = ("embedding",)  # biometric template: never shown
    allow_delete = True  # a cache: a deleted result is computed again


class ChunkInline(admin.TabularInline):
    model = EvaluationChunk
    extra = 0
    readonly_fields = ("index", "start", "stop", "status", "attempts", "lease_expires_at", "computed", "reused",
                       "done_at")
    can_delete = False


@admin.register(EvaluationRun)
class EvaluationRunAdmin(admin.ModelAdmin):
    list_display = ("id", "scope_key", "status", "trigger", "items_total", "chunks_done", "chunks_total",
                    "computed", "reused", "started_at", "finished_at")
    list_filter = ("status", "scope", "trigger")
    readonly_fields = [f.name for f in EvaluationRun._meta.fields]
    inlines = [ChunkInline]

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False  # runs start from the dashboard API, the command or the schedule


@admin.register(MetricResult)
class MetricResultAdmin(admin.ModelAdmin):
    list_display = ("run", "model_id", "metric", "category", "value", "estimate", "n", "ci_low", "ci_high",
                    "insufficient")
    list_filter = ("model_id", "task", "metric", "category")
    readonly_fields = [f.name for f in MetricResult._meta.fields]


@admin.register(CurveResult)
class CurveResultAdmin(admin.ModelAdmin):
    list_display = ("run", "model_id", "category", "value", "n_genuine", "n_impostor")
    readonly_fields = [f.name for f in CurveResult._meta.fields]


@admin.register(EvaluationItem)
class EvaluationItemAdmin(admin.ModelAdmin):
    list_display = ("run", "position", "kind", "ref", "subject", "sha256")
    list_filter = ("kind",)
    search_fields = ("ref", "sha256")
    readonly_fields = [f.name for f in EvaluationItem._meta.fields]

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False


@admin.register(EvaluationChunk)
class EvaluationChunkAdmin(admin.ModelAdmin):
    list_display = ("run", "index", "start", "stop", "status", "attempts", "lease_expires_at", "done_at")
    list_filter = ("status",)
    readonly_fields = [f.name for f in EvaluationChunk._meta.fields]

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False
