from django.apps import AppConfig


class ReleasesConfig(AppConfig):
    name = "facecommons.releases"
    label = "releases"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from facecommons.releases import receivers

        receivers.connect()
