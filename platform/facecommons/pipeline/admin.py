from django.contrib import admin

from facecommons.pipeline.models import PhotoAnalysis


@admin.register(PhotoAnalysis)
class PhotoAnalysisAdmin(admin.ModelAdmin):
    """Read-only: the pipeline writes these rows; re-run a photo by re-enqueueing it."""

    list_display = ("contribution", "verdict_code", "enhanced", "detector_id", "sharpness", "attempts", "finished_at")
    list_filter = ("verdict_code", "enhanced", "detector_id")
    search_fields = ("contribution__id",)
    readonly_fields = [f.name for f in PhotoAnalysis._meta.fields]

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
