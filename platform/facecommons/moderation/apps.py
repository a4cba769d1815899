from django.apps import AppConfig


class ModerationConfig(AppConfig):
    name = "facecommons.moderation"
    label = "moderation"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from facecommons.moderation import receivers

        receivers.connect()
