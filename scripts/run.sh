#!/usr/bin/env bash
# `make run`: web server, Celery worker and beat on the embedded defaults, one terminal.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT="${1:-${PORT:-8000}}"
# Loopback unless HOST says otherwise: the embedded set-up is for this machine.
HOST="${HOST:-127.0.0.1}"
export DJANGO_SETTINGS_MODULE="${DJANGO_SETTINGS_MODULE:-config.settings.local}"
mkdir -p var/log
.venv/bin/celery --workdir platform -A config.celery_app worker -Q ingest,evaluation,releases,default \
  --concurrency "${WORKER_CONCURRENCY:-2}" --loglevel INFO >var/log/worker.log 2>&1 &
WORKER=$!
.venv/bin/celery --workdir platform -A config.celery_app beat --loglevel INFO \
  --schedule var/celerybeat-schedule >var/log/beat.log 2>&1 &
BEAT=$!
trap 'kill $WORKER $BEAT 2>/dev/null || true' EXIT INT TERM
cat <<MSG

  Face Commons is running at http://${HOST}:${PORT}/
  (worker log: var/log/worker.log, beat log: var/log/beat.log)

  Create an admin account:
    .venv/bin/python manage.py create_account --email you@example.org --password '<a long password>' --role admin

MSG
# No debug pages unless DJANGO_DEBUG=true (settings.local); WhiteNoise serves the static files.
.venv/bin/python manage.py runserver "${HOST}:${PORT}"
