"""Settings for the test suite: the same stack, fast password hashing, an outbox for mail."""

import os
import tempfile
from pathlib import Path

from .base import *  # noqa: F403
from .base import DATABASES, env

SECRET_KEY = "test-only-secret-key-not-used-anywhere-else"  # noqa: S105
DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

# Every test session gets its own scratch area for private files, the file broker and the
# cache, so concurrent runs never see each other's files.
TEST_VAR_DIR = env.str("TEST_VAR_DIR", default="") or tempfile.mkdtemp(prefix="facecommons-test-")
os.environ["TEST_VAR_DIR"] = TEST_VAR_DIR  # inherited by subprocess workers
MEDIA_ROOT = Path(TEST_VAR_DIR) / "media"
FILE_UPLOAD_TEMP_DIR = os.path.join(TEST_VAR_DIR, "tmp")
os.makedirs(FILE_UPLOAD_TEMP_DIR, exist_ok=True)
CELERY_BROKER_DIR = env.str("CELERY_BROKER_DIR", default=os.path.join(TEST_VAR_DIR, "broker"))
STORAGES["default"]["OPTIONS"]["location"] = str(MEDIA_ROOT)  # type: ignore[index]  # noqa: F405
STORAGES["private"] = STORAGES["default"]  # noqa: F405
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
if not env.str("REDIS_URL", default=""):
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                          "LOCATION": os.path.join(TEST_VAR_DIR, "cache")}}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not :memory:, so that a worker in another process sees the test database.
    DATABASES["default"]["TEST"] = {"NAME": os.path.join(TEST_VAR_DIR, "test.sqlite3")}

# Every test client comes from 127.0.0.1: keep the per-account lockout as in production but
# lift the per-address limits so a full suite run is not throttled by its own logins.
ACCOUNT_RATE_LIMITS = {  # noqa: F405
    **ACCOUNT_RATE_LIMITS,  # noqa: F405
    "login": "10000/m/ip",
    "signup": "10000/m/ip",
    "login_failed": "10000/m/ip,5/5m/key",
    "reset_password": "10000/m/ip,5/m/key",
}
