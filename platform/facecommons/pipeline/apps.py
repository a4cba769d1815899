from django.apps import AppConfig

from facecommons.contributions.events import contribution_categories_changed, contribution_received


class PipelineConfig(AppConfig):
    name = "facecommons.pipeline"
    label = "pipeline"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # lazy: receivers import models, which cannot load before the app registry is ready
        from facecommons.pipeline import receivers

        contribution_received.connect(receivers.on_contribution_received)
        contribution_categories_changed.connect(receivers.on_categories_changed)
