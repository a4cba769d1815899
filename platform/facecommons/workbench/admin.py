from django.contrib import admin

from facecommons.workbench.models import TrainingRun


@admin.register(TrainingRun)
class TrainingRunAdmin(admin.ModelAdmin):
    list_display = ("id", "task", "snapshot_version", "policy_label", "seed", "status", "epoch", "epochs",
                    "registered_model_id", "created_at")
    list_filter = ("task", "status")
    search_fields = ("snapshot_version", "registered_model_id")
    readonly_fields = ("snapshot_version", "task", "policy", "seed", "config", "status", "cancel_requested", "epoch",
                       "epochs", "loss", "validation", "validation_name", "history", "training_set_size", "summary",
                       "model_key", "model_card", "registered_model_id", "attempts", "lease_expires_at",
                       "requested_by", "created_at", "started_at", "finished_at", "error")
    exclude = ("training_set", "rows", "baseline_rows")  # large: read them through the API or the run's page

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False  # runs start from the workbench page or the API (they need a worker)
