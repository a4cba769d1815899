"""Register the workbench's resume pass in django-celery-beat (editable in the admin)."""

from django.db import migrations

RESUME = "workbench: resume stalled training runs"


def create_schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every10, _ = IntervalSchedule.objects.get_or_create(every=10, period="minutes")
    PeriodicTask.objects.update_or_create(name=RESUME, defaults={
        "task": "facecommons.workbench.tasks.workbench_resume", "interval": every10, "crontab": None,
        "queue": "evaluation", "enabled": True, "expire_seconds": 540,
        "description": "Re-enqueues training runs whose worker died (lease expired); they resume from their last "
                       "checkpoint."})


def remove_schedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=RESUME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("workbench", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_schedule, remove_schedule)]
