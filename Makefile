# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
PORT ?= 8000
# Only this machine can reach `make run` unless HOST says otherwise (e.g. HOST=0.0.0.0).
HOST ?= 127.0.0.1
export HOST
export DJANGO_SETTINGS_MODULE ?= config.settings.local

.PHONY: install run test lint migrate worker beat web browser-deps gettext-deps messages compilemessages clean

$(VENV)/.installed: requirements.txt
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip wheel "setuptools<81"
	# torch is pinned to the CPU build (2.13.0); pip, not uv/poetry, finds it on these machines.
	$(PIP) install --quiet -r requirements.txt
	touch $@

install: $(VENV)/.installed

migrate: install
	$(PY) manage.py migrate --noinput

run: install migrate
	@scripts/run.sh $(PORT)

web: install
	$(PY) manage.py runserver $(HOST):$(PORT)

worker: install
	$(VENV)/bin/celery --workdir platform -A config.celery_app worker -Q ingest,evaluation,releases,default --concurrency 2 --loglevel INFO

beat: install
	$(VENV)/bin/celery --workdir platform -A config.celery_app beat --loglevel INFO

# Headless Chromium for the browser tests (Debian's package; Playwright drives it).
browser-deps:
	@command -v chromium >/dev/null 2>&1 || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) || echo "WARNING: could not install chromium; browser tests will be skipped"

# GNU gettext (Debian's package): `make messages` extracts strings with it, and the test that
# every interface string is translated runs the same extraction. The compiled catalogues
# (locale/*/LC_MESSAGES/*.mo) are committed, so `make run` needs no gettext.
gettext-deps:
	@command -v msgfmt >/dev/null 2>&1 || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gettext >/dev/null) || echo "WARNING: could not install gettext; the translation-completeness test will be skipped"

# Extract every interface string into locale/<lang>/LC_MESSAGES/{django,djangojs}.po; translate
# the new entries (msgstr), then `make compilemessages` and commit both the .po and the .mo.
messages: install gettext-deps
	PY=$(PY) scripts/messages.sh
	$(PY) scripts/po_headers.py

compilemessages: install gettext-deps
	$(PY) manage.py compilemessages --ignore=.venv --ignore=var

test: install browser-deps gettext-deps
	DJANGO_SETTINGS_MODULE=config.settings.test $(VENV)/bin/pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check platform ml enhancement tests bench manage.py facecommons_client
	$(VENV)/bin/mypy platform/facecommons platform/config ml enhancement facecommons_client

clean:
	rm -rf var
