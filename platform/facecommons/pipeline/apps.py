from django.apps import AppConfig


class PipelineConfig(AppConfig):
    name = "facecommons.pipeline"
    label = "pipeline"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from facecommons.contributions.signals import contribution_received

        contribution_received.connect(_on_contribution_received, dispatch_uid="pipeline.enqueue_received")


def _on_contribution_received(sender, contribution_id: str, **kwargs) -> None:  # type: ignore[no-untyped-def]
    from facecommons.pipeline.services import pipeline_enqueue

    pipeline_enqueue(contribution_id)
