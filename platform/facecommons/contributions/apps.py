from django.apps import AppConfig

from facecommons.accounts.events import consent_withdrawn


class ContributionsConfig(AppConfig):
    name = "facecommons.contributions"
    label = "contributions"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # lazy: receivers import models, which cannot load before the app registry is ready
        from facecommons.contributions import receivers

        consent_withdrawn.connect(receivers.on_consent_withdrawn)
