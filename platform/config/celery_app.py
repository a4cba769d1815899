"""The one Celery app of the site.

Queue names live in :class:`facecommons.common.queues.Queue`. Reliability settings follow
Read the Docs and PostHog: late acks with prefetch 1 so a killed worker's task is redelivered,
``reject_on_worker_lost`` so a SIGKILLed child requeues its task, hard and soft limits, and a
Redis visibility timeout longer than the longest task.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

_SOURCE = Path(__file__).resolve().parents[1]
if str(_SOURCE) not in sys.path:  # platform/ is a source folder, not a package
    sys.path.insert(0, str(_SOURCE))
_ROOT = _SOURCE.parent
if str(_ROOT) not in sys.path:  # ml/ and enhancement/ live at the top level
    sys.path.insert(0, str(_ROOT))

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

from celery import Celery  # noqa: E402
from django.conf import settings  # noqa: E402

app = Celery("facecommons")
app.config_from_object("django.conf:settings", namespace="CELERY")


def _configure() -> None:
    from facecommons.common.queues import Queue, task_routes

    broker_url: str = settings.CELERY_BROKER_URL
    conf = app.conf
    conf.broker_url = broker_url
    conf.task_default_queue = Queue.INGEST.value
    conf.task_create_missing_queues = True
    conf.task_routes = task_routes()
    conf.task_acks_late = True
    conf.task_reject_on_worker_lost = True
    # A task that fails or times out is acknowledged (not redelivered forever); the pipeline
    # records its own failures and its reconciler retries from the database.
    conf.task_acks_on_failure_or_timeout = True
    conf.worker_prefetch_multiplier = 1
    conf.task_soft_time_limit = 300
    conf.task_time_limit = 360
    conf.task_ignore_result = True
    conf.result_backend = None
    conf.worker_hijack_root_logger = False
    conf.broker_connection_retry_on_startup = True
    conf.task_always_eager = settings.CELERY_TASK_ALWAYS_EAGER
    conf.task_eager_propagates = True
    conf.beat_scheduler = settings.CELERY_BEAT_SCHEDULER
    longest = settings.CELERY_LONGEST_TASK_SECONDS
    if broker_url.startswith("filesystem://"):
        broker_dir = Path(settings.CELERY_BROKER_DIR)
        for sub in ("out", "processed", "control"):
            (broker_dir / sub).mkdir(parents=True, exist_ok=True)
        conf.broker_transport_options = {
            "data_folder_in": str(broker_dir / "out"),
            "data_folder_out": str(broker_dir / "out"),
            "processed_folder": str(broker_dir / "processed"),
            "store_processed": False,
            # Exchange tables; kombu's default is ./control relative to the working directory.
            "control_folder": str(broker_dir / "control"),
            # Polling a folder: 0.2 s keeps an upload's verdict within about a second.
            "polling_interval": 0.2,
        }
    else:
        conf.broker_transport_options = {"visibility_timeout": longest + 600}


_configure()
app.autodiscover_tasks()
