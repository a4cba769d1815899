from django.apps import AppConfig


class ContributionsConfig(AppConfig):
    name = "facecommons.contributions"
    label = "contributions"
    default_auto_field = "django.db.models.BigAutoField"
