"""Register the hourly gatekeeper audit in django-celery-beat (editable in the admin)."""

from django.db import migrations

HOURLY = "evaluation: gatekeeper audit per group"


def create_schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    hourly, _ = IntervalSchedule.objects.get_or_create(every=1, period="hours")
    PeriodicTask.objects.update_or_create(name=HOURLY, defaults={
        "task": "facecommons.evaluation.tasks.gatekeeper_audit", "interval": hourly, "crontab": None,
        "queue": "evaluation", "enabled": True, "expire_seconds": 3000,
        "description": "Audits the automated gate per group (findings, routes, review requests, overturns, "
                       "detector misses, abuse flags) and alerts admins on a gap beyond GATEKEEPER_GAP_ALERT."})


def remove_schedule(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name=HOURLY).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("evaluation", "0003_gatekeeper_audit"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_schedule, remove_schedule)]
