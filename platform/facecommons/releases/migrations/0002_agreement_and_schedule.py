"""The first data-use agreement (edit or supersede it in the admin) and a monthly snapshot
build, created disabled: an admin turns it on in the admin (Periodic tasks) when ready."""

from django.db import migrations
from django.utils import timezone

AGREEMENT_V1 = """By downloading a Face Commons snapshot you agree, for yourself and your institution:

1. Purpose. You use the data only for research on the fairness, robustness and bias of face analysis models, as described in your application.
2. No identification. You do not try to identify, re-identify, contact or track any person in the data, and you do not combine it with other data to that end. No surveillance, no law-enforcement or commercial face-recognition products.
3. No redistribution. You do not share the photos, crops or per-photo metadata with anyone outside the team named in your application. You may publish aggregate results and a few example faces only with the project's written permission.
4. Withdrawals. When a contributor withdraws consent, the files to delete are listed in the snapshot's withdrawn.csv and you are notified by e-mail. You delete those files from every copy within 30 days and stop using them.
5. Security. You keep the data on access-controlled storage and delete it when your research ends.
6. Citation. You cite the snapshot version you used.
7. Breach. A breach ends your access; the project may inform your institution.
"""

TASK_NAME = "releases: monthly snapshot build"


def forwards(apps, schema_editor):
    DataUseAgreement = apps.get_model("releases", "DataUseAgreement")
    if not DataUseAgreement.objects.exists():
        DataUseAgreement.objects.create(version=1, title="Face Commons data-use agreement", text=AGREEMENT_V1,
                                        published_at=timezone.now())
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    cron, _ = CrontabSchedule.objects.get_or_create(minute="0", hour="4", day_of_month="1", month_of_year="*",
                                                    day_of_week="*")
    PeriodicTask.objects.get_or_create(name=TASK_NAME, defaults={
        "task": "facecommons.releases.tasks.snapshot_scheduled_task", "crontab": cron, "enabled": False,
        "queue": "releases", "description": "Builds a new snapshot on the 1st of each month. Disabled by default."})


def backwards(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("releases", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
