from django.apps import AppConfig

from facecommons.contributions.events import contribution_status_changed


class ModerationConfig(AppConfig):
    name = "facecommons.moderation"
    label = "moderation"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # lazy: receivers import models, which cannot load before the app registry is ready
        from facecommons.moderation import receivers

        contribution_status_changed.connect(receivers.on_status_changed)
