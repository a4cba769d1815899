from django.apps import AppConfig

from facecommons.contributions.events import contribution_removed, contributor_withdrawn


class ReleasesConfig(AppConfig):
    name = "facecommons.releases"
    label = "releases"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # lazy: receivers import models, which cannot load before the app registry is ready
        from facecommons.releases import receivers

        contributor_withdrawn.connect(receivers.on_withdrawn)
        contribution_removed.connect(receivers.on_removed)
