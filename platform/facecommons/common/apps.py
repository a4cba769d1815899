from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "facecommons.common"
    label = "common"
    default_auto_field = "django.db.models.BigAutoField"
