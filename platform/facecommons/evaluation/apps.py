from django.apps import AppConfig, apps
from django.db.models.signals import post_delete, post_save


class EvaluationConfig(AppConfig):
    name = "facecommons.evaluation"
    label = "evaluation"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from facecommons.contributions.signals import contribution_removed
        from facecommons.evaluation import receivers
        from facecommons.evaluation.models import ExternalImage

        contribution_removed.connect(receivers.on_contribution_removed, dispatch_uid="evaluation_forget_results")
        post_delete.connect(receivers.on_external_image_deleted, sender=ExternalImage,
                            dispatch_uid="evaluation_external_image_files")
        # The releases app sends no signal of its own: a snapshot's save with status
        # "published" is the publication.
        try:
            snapshot = apps.get_model("releases", "Snapshot")
        except LookupError:  # pragma: no cover - releases not installed
            return
        post_save.connect(receivers.on_snapshot_saved, sender=snapshot, dispatch_uid="evaluation_on_snapshot")
