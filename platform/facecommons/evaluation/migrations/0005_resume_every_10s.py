"""The resume pass runs every 10 seconds on the default queue (was every 10 minutes on the
evaluation queue, behind the chunks it recovers): with the chunk's 30 s heartbeat-renewed lease,
a chunk whose worker was killed is computed again within a minute (issue 14)."""

from django.db import migrations

from facecommons.common.schedules import schedule_every

RESUME = "evaluation: resume stalled runs"
TASK = "facecommons.evaluation.tasks.evaluation_resume"
DESCRIPTION = "Re-enqueues evaluation chunks whose lease expired (a worker died) and stuck metrics."


def every_10_seconds(apps, schema_editor):
    schedule_every(apps, name=RESUME, task=TASK, every=10, period="seconds", queue="default", expire_seconds=9,
                   description=DESCRIPTION)


def every_10_minutes(apps, schema_editor):
    schedule_every(apps, name=RESUME, task=TASK, every=10, period="minutes", queue="evaluation", expire_seconds=540,
                   description=DESCRIPTION)


class Migration(migrations.Migration):
    dependencies = [
        ("evaluation", "0004_gatekeeper_schedule"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(every_10_seconds, every_10_minutes)]
