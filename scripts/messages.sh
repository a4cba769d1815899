#!/usr/bin/env sh
# Extract every interface string into locale/<lang>/LC_MESSAGES/{django,djangojs}.po (needs
# GNU gettext: `make gettext-deps`). Run after adding or changing strings, translate the new
# entries, then `make compilemessages`. The shipped languages are settings.LANGUAGES.
set -e
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
LOCALES="-l es -l pt_BR -l fr -l hi -l sw -l ar"
IGNORE="--ignore=.venv --ignore=var --ignore=tests --ignore=bench --ignore=docs --ignore=scripts --ignore=locale"
DJANGO_SETTINGS_MODULE=${DJANGO_SETTINGS_MODULE:-config.settings.test} \
  $PY manage.py makemessages $LOCALES --add-location=file --no-obsolete $IGNORE -d django
DJANGO_SETTINGS_MODULE=${DJANGO_SETTINGS_MODULE:-config.settings.test} \
  $PY manage.py makemessages $LOCALES --add-location=file --no-obsolete $IGNORE -d djangojs
