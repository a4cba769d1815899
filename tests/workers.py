"""A REAL Celery worker for the reliability tests (tests/*/test_worker.py): a subprocess on this
test session's database (the SQLite file or the PostgreSQL test database), private storage and
broker (the file broker under TEST_VAR_DIR by default, Redis when REDIS_URL is set: the tests'
own db, which ``flush_broker`` empties).

    flush_broker()
    with Worker(tmp_path / "w1.log", worker_env(PIPELINE_LEASE_SECONDS="3"), queues=("ingest",)) as w:
        w.wait_ready()
        ...
        w.kill()  # SIGKILL: no cleanup, no acks, as when a machine dies
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType

from django.conf import settings

ROOT = Path(__file__).resolve().parents[1]


def database_url() -> str:
    """This session's test database as a DATABASE_URL (Django has renamed it to the test one)."""
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    user = db.get("USER") or ""
    auth = f"{user}:{db['PASSWORD']}@" if db.get("PASSWORD") else (f"{user}@" if user else "")
    scheme = "cockroachdb" if "cockroach" in db["ENGINE"] else "postgres"
    return f"{scheme}://{auth}{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


def flush_broker() -> None:
    """Drop every message on the tests' broker."""
    url = settings.CELERY_BROKER_URL
    if url.startswith("redis"):
        import redis

        redis.Redis.from_url(url).flushdb()  # the tests' own Redis db only
    else:
        out = Path(settings.CELERY_BROKER_DIR) / "out"
        if out.exists():
            shutil.rmtree(out)
        out.mkdir(parents=True, exist_ok=True)


def worker_env(**extra: str) -> dict[str, str]:
    """The environment of a worker on this session's database, storage and broker; ``extra``
    sets settings read from the environment (a short lease, fewer bootstrap replicates)."""
    return {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test", "DATABASE_URL": database_url(),
            "TEST_VAR_DIR": settings.TEST_VAR_DIR, "CELERY_BROKER_DIR": str(settings.CELERY_BROKER_DIR),
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL, "PYTHONUNBUFFERED": "1", "OMP_NUM_THREADS": "1",
            **extra}


class Worker:
    """``celery worker`` (prefork) on ``queues``, started at once; its output goes to ``log``."""

    def __init__(self, log: Path, env: Mapping[str, str], *, queues: Sequence[str], concurrency: int = 1) -> None:
        self.log = log
        self._fh = open(log, "wb")  # noqa: SIM115 - closed in stop()
        cmd = [sys.executable, "-m", "celery", "--workdir", "platform", "-A", "config.celery_app", "worker",
               "-P", "prefork", "-c", str(concurrency), "-Q", ",".join(queues), "--loglevel", "INFO",
               "-n", f"{queues[0]}-test-{uuid.uuid4().hex[:8]}@%h", "--without-mingle", "--without-gossip",
               "--without-heartbeat"]
        # Its own session, so that SIGKILL can reach the main process and its children at once.
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=dict(env), stdout=self._fh, stderr=subprocess.STDOUT,
                                     start_new_session=True)

    def __enter__(self) -> Worker:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"worker exited ({self.proc.returncode}):\n{self.log.read_text()[-3000:]}")
            if b" ready." in self.log.read_bytes():
                return
            time.sleep(0.2)
        raise RuntimeError(f"worker not ready after {timeout} s:\n{self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        """SIGKILL the whole worker (main process and pool children): no cleanup, no acks."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(10)

    def stop(self) -> None:
        # Nothing needs a graceful shutdown here, and a warm one waits for the pool.
        if self.proc.poll() is None:
            self.kill()
        self._fh.close()
