"""Register the workbench's resume pass in django-celery-beat (editable in the admin)."""

from django.db import migrations

from facecommons.common.schedules import schedule_every, schedule_remove

RESUME = "workbench: resume stalled training runs"


def create_schedule(apps, schema_editor):
    schedule_every(apps, name=RESUME, task="facecommons.workbench.tasks.workbench_resume", every=10,
                   period="minutes", queue="evaluation", expire_seconds=540,
                   description="Re-enqueues training runs whose worker died (lease expired); they resume from their "
                               "last checkpoint.")


def remove_schedule(apps, schema_editor):
    schedule_remove(apps, RESUME)


class Migration(migrations.Migration):
    dependencies = [
        ("workbench", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_schedule, remove_schedule)]
