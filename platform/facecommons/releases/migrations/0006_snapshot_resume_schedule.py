"""A resume pass for snapshot builds every 10 seconds on the default queue: a build whose
worker was killed (no heartbeat for RELEASES_BUILD_STALE_SECONDS, 30) or whose message was lost
is enqueued again, so it restarts within a minute (issue 14)."""

from django.db import migrations

from facecommons.common.schedules import schedule_every, schedule_remove

NAME = "releases: resume stalled snapshot builds"


def create_schedule(apps, schema_editor):
    schedule_every(apps, name=NAME, task="facecommons.releases.tasks.snapshot_resume_task", every=10,
                   period="seconds", queue="default", expire_seconds=9,
                   description="Re-enqueues a snapshot build whose worker died (no heartbeat) or whose message was "
                               "lost; the build restarts from the start (it is deterministic).")


def remove_schedule(apps, schema_editor):
    schedule_remove(apps, NAME)


class Migration(migrations.Migration):
    dependencies = [
        ("releases", "0005_removal_reminders_schedule"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_schedule, remove_schedule)]
