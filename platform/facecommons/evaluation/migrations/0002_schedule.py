"""Register the evaluation schedule in django-celery-beat (editable in the admin):
nightly at 02:15 UTC, and every 10 minutes a resume pass for chunks whose worker died."""

from django.db import migrations

NIGHTLY = "evaluation: nightly bias re-evaluation"
RESUME = "evaluation: resume stalled runs"


def create_schedule(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    cron, _ = CrontabSchedule.objects.get_or_create(minute="15", hour="2", day_of_month="*", month_of_year="*",
                                                    day_of_week="*")
    PeriodicTask.objects.update_or_create(name=NIGHTLY, defaults={
        "task": "facecommons.evaluation.tasks.evaluation_nightly", "crontab": cron, "interval": None,
        "queue": "evaluation", "enabled": True, "expire_seconds": 3600,
        "description": "Evaluates the current approved set, and the newest published snapshot if it has not been "
                       "evaluated yet. Publication of a snapshot also starts a run (post_save hook)."})
    every10, _ = IntervalSchedule.objects.get_or_create(every=10, period="minutes")
    PeriodicTask.objects.update_or_create(name=RESUME, defaults={
        "task": "facecommons.evaluation.tasks.evaluation_resume", "interval": every10, "crontab": None,
        "queue": "evaluation", "enabled": True, "expire_seconds": 540,
        "description": "Re-enqueues evaluation chunks whose lease expired (a worker died) and stuck metrics."})


def remove_schedule(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name__in=[NIGHTLY, RESUME]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("evaluation", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_schedule, remove_schedule)]
