"""Celery queue names, in one place (as PostHog does), and the routing of tasks to them."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from celery import current_app


class Queue(StrEnum):
    INGEST = "ingest"  # per-photo pipeline: fast, latency-sensitive
    EVALUATION = "evaluation"  # bias re-evaluation chunks: CPU-heavy, long
    RELEASES = "releases"  # snapshot builds: I/O-heavy, longest
    DEFAULT = "default"  # housekeeping (reconciler, mail, payouts)


ALL_QUEUES = [q.value for q in Queue]


def task_routes() -> dict[str, dict[str, str]]:
    """Route by module: each app's tasks go to the queue that suits their cost."""
    return {
        # Housekeeping that lives beside its app's tasks (exact names win over patterns).
        # Reconcilers must not wait behind the long work they recover.
        "facecommons.pipeline.tasks.reconcile_stuck": {"queue": Queue.DEFAULT.value},
        "facecommons.evaluation.tasks.evaluation_resume": {"queue": Queue.DEFAULT.value},
        "facecommons.releases.tasks.snapshot_resume_task": {"queue": Queue.DEFAULT.value},
        "facecommons.pipeline.tasks.*": {"queue": Queue.INGEST.value},
        "facecommons.evaluation.tasks.*": {"queue": Queue.EVALUATION.value},
        "facecommons.workbench.tasks.*": {"queue": Queue.EVALUATION.value},  # training: CPU-heavy like evaluations
        "facecommons.releases.tasks.*": {"queue": Queue.RELEASES.value},
        "*": {"queue": Queue.DEFAULT.value},
    }


def task_send(name: str, *args: Any, **kwargs: Any) -> None:
    """Send the task registered as ``name`` with its own options (routing, eager mode in tests).

    By name, so that a service never imports its app's tasks module: the tasks import the
    services (tests/common/test_layers.py forbids the cycle). A process that has not imported
    the tasks yet (the web server) runs Celery's autodiscovery first, as a worker does.
    """
    if name not in current_app.tasks:
        current_app.loader.import_default_modules()
    current_app.tasks[name].delay(*args, **kwargs)
