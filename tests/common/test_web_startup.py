"""A web process starts without PyTorch: loading it costs every web worker a second or more and
hundreds of MB, and only the Celery worker that trains a workbench run needs it.

Checked in a fresh interpreter (this test process has long imported torch): the WSGI
application, the URLconf resolved (every view and API module imported), then Celery's
autodiscovery, which ``common.queues.task_send`` runs in the web process on its first enqueue.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json, sys
import config.wsgi
from django.urls import get_resolver, resolve
get_resolver().url_patterns
resolve("/")
seen = {"urls": "torch" in sys.modules}
from celery import current_app
current_app.loader.import_default_modules()
seen["tasks"] = "torch" in sys.modules
seen["workbench_task"] = "facecommons.workbench.tasks.workbench_train" in current_app.tasks
print(json.dumps(seen))
"""


def test_the_web_process_does_not_import_torch():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test",
           "PYTHONPATH": os.pathsep.join([str(ROOT / "platform"), str(ROOT)])}
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen == {"urls": False, "tasks": False, "workbench_task": True}, seen
