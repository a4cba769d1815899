from django.contrib import admin

from facecommons.common.admin import ReadOnlyAdmin
from facecommons.pipeline.models import PhotoAnalysis


@admin.register(PhotoAnalysis)
class PhotoAnalysisAdmin(ReadOnlyAdmin):
    """Read-only: the pipeline writes these rows; re-run a photo by re-enqueueing it."""

    list_display = ("contribution", "verdict_code", "enhanced", "detector_id", "sharpness", "attempts", "finished_at")
    list_filter = ("verdict_code", "enhanced", "detector_id")
    search_fields = ("contribution__id",)
    readonly_fields = [f.name for f in PhotoAnalysis._meta.fields]
    allow_delete = True
