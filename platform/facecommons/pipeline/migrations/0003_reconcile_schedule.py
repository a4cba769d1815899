"""Register the reconciler in django-celery-beat so its schedule is editable in the admin."""

from django.db import migrations

TASK = "facecommons.pipeline.tasks.reconcile_stuck"
NAME = "pipeline: re-enqueue stuck contributions"


def create_schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_minute, _ = IntervalSchedule.objects.get_or_create(every=1, period="minutes")
    PeriodicTask.objects.update_or_create(
        name=NAME,
        defaults={
            "task": TASK,
            "interval": every_minute,
            "queue": "default",
            # A run that could not start within its minute is dropped: the next one does its work.
            "expire_seconds": 55,
            "enabled": True,
            "description": "Re-enqueues contributions stuck in received/processing (lost broker messages, "
                           "killed workers). Tunable: PIPELINE_STUCK_AFTER_SECONDS.",
        },
    )


def remove_schedule(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("pipeline", "0002_claim_lease"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_schedule, remove_schedule)]
