"""The embedded default used by ``make run``: SQLite, file broker, local private files."""

from .base import *  # noqa: F403
from .base import SECRET_KEY, VAR_DIR, env

# Debug pages show settings and source to whoever reaches the port: only on request.
DEBUG = env.bool("DJANGO_DEBUG", default=False)
# runserver serves static files only under DEBUG; WhiteNoise serves them straight from the
# app and project folders otherwise, so `make run` needs no collectstatic.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
if not SECRET_KEY:
    # A per-machine key generated on first run (never a shipped default).
    _key_file = VAR_DIR / "secret_key"
    if not _key_file.exists():
        import secrets

        VAR_DIR.mkdir(parents=True, exist_ok=True)
        _key_file.write_text(secrets.token_urlsafe(50))
        _key_file.chmod(0o600)
    SECRET_KEY = _key_file.read_text().strip()
