"""A daily reminder to researchers who have not acknowledged a removal manifest (enabled)."""

from django.db import migrations

TASK_NAME = "releases: removal manifest reminders"


def forwards(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    cron, _ = CrontabSchedule.objects.get_or_create(minute="30", hour="5", day_of_month="*", month_of_year="*",
                                                    day_of_week="*")
    PeriodicTask.objects.get_or_create(name=TASK_NAME, defaults={
        "task": "facecommons.releases.tasks.removal_reminders_task", "crontab": cron, "enabled": True,
        "queue": "releases",
        "description": "E-mails researchers whose removal-manifest acknowledgement is open (weekly each)."})


def backwards(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("releases", "0004_manifests_and_blobs"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
