from django.apps import AppConfig
from django.db.models.signals import post_delete

from facecommons.contributions.events import contribution_removed
from facecommons.releases.events import snapshot_published


class EvaluationConfig(AppConfig):
    name = "facecommons.evaluation"
    label = "evaluation"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # lazy: receivers and models cannot load before the app registry is ready
        from facecommons.evaluation import receivers
        from facecommons.evaluation.models import ExternalImage

        snapshot_published.connect(receivers.on_snapshot_published)
        contribution_removed.connect(receivers.on_contribution_removed)
        # This app's own model: its files go with its rows, however they are deleted.
        post_delete.connect(receivers.on_external_image_deleted, sender=ExternalImage,
                            dispatch_uid="evaluation_external_image_files")
