"""Periodic tasks that data migrations register in django-celery-beat (editable in the admin).

Migrations import these functions with the historical ``apps``: keep their signatures, or a
migration written against them stops running.
"""

from __future__ import annotations

from typing import Any


def schedule_every(apps: Any, *, name: str, task: str, every: int, period: str, queue: str, expire_seconds: int,
                   description: str, enabled: bool = True) -> None:
    """Create or update the periodic task ``name``: ``task`` every ``every`` ``period`` on ``queue``.
    A run that could not start within ``expire_seconds`` is dropped (the next one does its work)."""
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    interval, _ = IntervalSchedule.objects.get_or_create(every=every, period=period)
    PeriodicTask.objects.update_or_create(name=name, defaults={
        "task": task, "interval": interval, "crontab": None, "queue": queue, "enabled": enabled,
        "expire_seconds": expire_seconds, "description": description})


def schedule_remove(apps: Any, *names: str) -> None:
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name__in=names).delete()
