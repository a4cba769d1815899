"""`make run` (scripts/run.sh) listens on 127.0.0.1 only, shows no debug page, and still
serves the static files (issue 14, part 5). Runs the real script, worker and beat included."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str) -> tuple[int, str, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:  # noqa: S310 - a local URL
            return r.status, r.headers.get("Content-Type", ""), r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Content-Type", ""), exc.read().decode("utf-8", "replace")


def _listening_addresses(port: int) -> set[str]:
    """Local addresses of the sockets in LISTEN state on ``port`` (from /proc/net/tcp{,6})."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            addr, port_hex = local.rsplit(":", 1)
            if state == "0A" and int(port_hex, 16) == port:
                found.add(addr)
    return found


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads the listening sockets from /proc")
def test_make_run_listens_on_loopback_without_debug_pages(tmp_path):
    port = _free_port()
    env = {k: v for k, v in os.environ.items()
           if k not in {"DJANGO_DEBUG", "HOST", "DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "S3_BUCKET",
                        "TEST_VAR_DIR", "CELERY_BROKER_DIR"}}
    env.update({"DJANGO_SETTINGS_MODULE": "config.settings.local", "VAR_DIR": str(tmp_path / "var"),
                "PORT": str(port), "WORKER_CONCURRENCY": "1"})
    # No migrate (make run's first step): /healthz, a 404 and the static files need no tables,
    # and migrating a fresh SQLite file would take most of this test's time.
    proc = subprocess.Popen(["scripts/run.sh", str(port)], cwd=ROOT, env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                status, _, _ = _get(f"http://127.0.0.1:{port}/healthz")
                if status == 200:
                    break
            except OSError:
                pass
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else "run.sh exited"
            assert time.monotonic() < deadline, "make run did not answer within 120 s"
            time.sleep(0.5)
        # Only the loopback address listens (127.0.0.1 is 0100007F in /proc's byte order).
        assert _listening_addresses(port) == {"0100007F"}
        status, ctype, body = _get(f"http://127.0.0.1:{port}/no-such-page/")
        assert status == 404 and "URLconf" not in body and "DEBUG = True" not in body
        status, ctype, _ = _get(f"http://127.0.0.1:{port}/api/v1/no-such-endpoint/")
        assert status == 404 and ctype.startswith("application/json")
        status, ctype, css = _get(f"http://127.0.0.1:{port}/static/css/site.css")
        assert status == 200 and ctype.startswith("text/css") and ".card" in css
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
