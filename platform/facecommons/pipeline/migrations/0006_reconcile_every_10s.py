"""The reconciler runs every 10 seconds (was every minute): with the 30 s lease, a photo whose
worker was killed or whose message vanished is processed again within a minute (issue 14)."""

from django.db import migrations

NAME = "pipeline: re-enqueue stuck contributions"


def every_10_seconds(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    interval, _ = IntervalSchedule.objects.get_or_create(every=10, period="seconds")
    # A run that could not start before the next one is due is dropped: the next one does its work.
    PeriodicTask.objects.filter(name=NAME).update(interval=interval, expire_seconds=9)


def every_minute(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    interval, _ = IntervalSchedule.objects.get_or_create(every=1, period="minutes")
    PeriodicTask.objects.filter(name=NAME).update(interval=interval, expire_seconds=55)


class Migration(migrations.Migration):
    dependencies = [
        ("pipeline", "0005_detector_missed"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(every_10_seconds, every_minute)]
