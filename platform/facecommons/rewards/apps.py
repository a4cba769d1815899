from django.apps import AppConfig

from facecommons.contributions.events import contribution_removed, contribution_status_changed, contributor_withdrawn
from facecommons.moderation.events import flag_changed


class RewardsConfig(AppConfig):
    name = "facecommons.rewards"
    label = "rewards"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # lazy: receivers import models, which cannot load before the app registry is ready
        from facecommons.rewards import receivers

        contribution_status_changed.connect(receivers.on_status_changed)
        contribution_removed.connect(receivers.on_removed)
        contributor_withdrawn.connect(receivers.on_withdrawn)
        flag_changed.connect(receivers.on_flag_changed)
