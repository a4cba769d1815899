"""Register the hourly gatekeeper audit in django-celery-beat (editable in the admin)."""

from django.db import migrations

from facecommons.common.schedules import schedule_every, schedule_remove

HOURLY = "evaluation: gatekeeper audit per group"


def create_schedule(apps, schema_editor):
    schedule_every(apps, name=HOURLY, task="facecommons.evaluation.tasks.gatekeeper_audit", every=1, period="hours",
                   queue="evaluation", expire_seconds=3000,
                   description="Audits the automated gate per group (findings, routes, review requests, overturns, "
                               "detector misses, abuse flags) and alerts admins on a gap beyond GATEKEEPER_GAP_ALERT.")


def remove_schedule(apps, schema_editor):
    schedule_remove(apps, HOURLY)


class Migration(migrations.Migration):
    dependencies = [
        ("evaluation", "0003_gatekeeper_audit"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_schedule, remove_schedule)]
