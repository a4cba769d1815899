from django.apps import AppConfig


class WorkbenchConfig(AppConfig):
    name = "facecommons.workbench"
    label = "workbench"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "Reference-model workbench"
