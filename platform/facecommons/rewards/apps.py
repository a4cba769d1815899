from django.apps import AppConfig


class RewardsConfig(AppConfig):
    name = "facecommons.rewards"
    label = "rewards"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from facecommons.rewards import receivers

        receivers.connect()
