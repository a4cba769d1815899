"""Settings shared by every environment.

Everything an operator may change is read from the environment with django-environ; the
defaults are the embedded set-up (SQLite, a file-based Celery broker and private local
file storage, all under ``var/``) so that ``make run`` needs no other service.
"""

from __future__ import annotations

from pathlib import Path

import environ
from csp.constants import NONE, SELF

from facecommons.common.tunables import Tunables

ROOT_DIR = Path(__file__).resolve().parents[3]
SOURCE_DIR = ROOT_DIR / "platform"
VAR_DIR = Path(environ.Env().str("VAR_DIR", default=str(ROOT_DIR / "var")))

env = environ.Env()
env.read_env(ROOT_DIR / ".env") if (ROOT_DIR / ".env").exists() else None

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])
SITE_ID = 1
# Declared (default, why) in facecommons.common.tunables; read here because settings use them.
SITE_NAME = Tunables.SITE_NAME.from_env()
SITE_URL = Tunables.SITE_URL.from_env()

# --- Databases -----------------------------------------------------------------------
# SQLite under var/ by default; postgres:// and cockroachdb:// URLs (django-cockroachdb
# registers the "cockroachdb" scheme below) for the scale-out deployments.
environ.Env.DB_SCHEMES["cockroachdb"] = "django_cockroachdb"
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=0)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server, the worker and beat share one file: wait on a lock instead of
    # failing at once, and use WAL so that readers never block the writer. Transactions
    # begin IMMEDIATE (take the write lock at BEGIN): a deferred transaction that reads and
    # then writes cannot wait for the lock when another connection wrote meanwhile, and
    # SQLite fails it at once with "database is locked" whatever the timeout.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 30, "transaction_mode": "IMMEDIATE",
         "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"}
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Applications --------------------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "django.contrib.humanize",
    "rest_framework",
    # Kept for its migrations only: accounts.ApiToken replaced its one-per-user keys (deleted in
    # accounts/0003), and nothing authenticates with it.
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    # Apps are registered by their full dotted path so no module is importable twice.
    "facecommons.common",
    "facecommons.accounts",
    "facecommons.contributions",
    "facecommons.pipeline",
    "facecommons.moderation",
    "facecommons.releases",
    "facecommons.evaluation",
    "facecommons.workbench",
    "facecommons.rewards",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "facecommons.common.middleware.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # After sessions (the language chosen in the switcher is kept in a cookie) and before
    # CommonMiddleware; picks the language from the cookie, else Accept-Language.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "facecommons.accounts.middleware.StaffMFAMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
AUTH_USER_MODEL = "accounts.User"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [ROOT_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "facecommons.common.context_processors.site",
            ],
        },
    }
]

AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
# The shipped interface languages. Each one has a complete catalogue under locale/ (a test
# fails when an interface string lacks a translation); names are shown in their own language.
LANGUAGES = [
    ("en", "English"),
    ("es", "Español"),
    ("pt-br", "Português (Brasil)"),
    ("fr", "Français"),
    ("hi", "हिन्दी"),
    ("sw", "Kiswahili"),
    ("ar", "العربية"),
]
LOCALE_PATHS = [ROOT_DIR / "locale"]

# --- Static and private files --------------------------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [ROOT_DIR / "static"]
STATIC_ROOT = VAR_DIR / "staticfiles"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
# Photos are biometric data: there is deliberately no MEDIA_URL route. The "private"
# storage has base_url=None so that nothing can build a public link; every image is
# served by a view that checks permission.
S3_BUCKET = env.str("S3_BUCKET", default="")
if S3_BUCKET:
    _private_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": S3_BUCKET,
            "endpoint_url": env.str("S3_ENDPOINT_URL", default=None),
            "access_key": env.str("S3_ACCESS_KEY_ID", default=None),
            "secret_key": env.str("S3_SECRET_ACCESS_KEY", default=None),
            "region_name": env.str("S3_REGION", default=None),
            "default_acl": "private",
            "querystring_auth": True,
            "querystring_expire": 300,
            "file_overwrite": False,
        },
    }
else:
    _private_storage = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(MEDIA_ROOT), "base_url": None, "file_permissions_mode": 0o600,
                    "directory_permissions_mode": 0o700},
    }
STORAGES = {
    "default": _private_storage,
    "private": _private_storage,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 30 * 1024 * 1024
# Uploads above 2 MB are spooled to disk; keep that disk private and ours.
FILE_UPLOAD_TEMP_DIR = str(VAR_DIR / "tmp")
Path(FILE_UPLOAD_TEMP_DIR).mkdir(parents=True, exist_ok=True)
FILE_UPLOAD_PERMISSIONS = 0o600

# --- Caches (allauth's rate limits and the queue use it) -----------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    # File-based so that the web server, worker and beat processes share rate limits.
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                          "LOCATION": str(VAR_DIR / "cache")}}

# --- E-mail --------------------------------------------------------------------------
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Face Commons <noreply@localhost>")
ADMINS = [("Admins", a) for a in env.list("ADMIN_EMAILS", default=[])]

# --- django-allauth ------------------------------------------------------------------
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_CONFIRM_EMAIL_ON_GET = False
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_PREVENT_ENUMERATION = True
# Login rate limiting and lockout: 5 failed attempts per account per 5 minutes locks it.
ACCOUNT_RATE_LIMITS = {
    "login_failed": env.str("LOGIN_FAILED_RATE_LIMIT", default="10/m/ip,5/5m/key"),
    "login": "30/m/ip",
    "signup": "20/m/ip",
    "reset_password": "20/m/ip,5/m/key",
}
ACCOUNT_ADAPTER = "facecommons.accounts.adapters.AccountAdapter"
LOGIN_REDIRECT_URL = "/"
ACCOUNT_LOGOUT_REDIRECT_URL = "/"
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = SITE_NAME
# Production turns this on: moderators and admins must enrol a TOTP authenticator.
REQUIRE_MFA_FOR_STAFF = env.bool("REQUIRE_MFA_FOR_STAFF", default=False)

# --- Django REST framework -----------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Named, expiring tokens bound to the password (accounts/tokens.py), then the session.
        "facecommons.accounts.tokens.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # Every operation documents the shared error statuses in the error format (common/schema.py).
    "DEFAULT_SCHEMA_CLASS": "facecommons.common.schema.AutoSchema",
    "EXCEPTION_HANDLER": "facecommons.common.api.exception_handler",
    # JSON bodies within size and depth limits, and always an object (common/parsers.py).
    "DEFAULT_PARSER_CLASSES": [
        "facecommons.common.parsers.JSONObjectParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "facecommons.common.api.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Face Commons API",
    "DESCRIPTION": "Consented, inclusive face-image dataset: contributions, moderation, releases, evaluations.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI's files come from drf-spectacular-sidecar's static files, never a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # Two APIs have a "task" choice field (evaluation models, workbench runs): name each enum.
    # Request bodies get their own components, so a request documents what the server checks:
    # non-blank strings (minLength 1) and uploads as binary files, not URIs.
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums",
                             "facecommons.common.schema.close_upload_body"],
    # Bodies are documented as JSON (the upload as multipart, declared on its view): a form
    # encoding cannot carry the lists, objects and nulls the bodies hold. Forms still parse.
    "PARSER_WHITELIST": ["facecommons.common.parsers.JSONObjectParser"],
    "ENUM_NAME_OVERRIDES": {"TrainingTaskEnum": ["face-vs-background", "category", "verification"],
                            "EvaluationTaskEnum": ["detection", "verification"],
                            # The language a consent or data-use agreement was read in.
                            "LanguageEnum": [code for code, _name in LANGUAGES]},
}

# --- Celery --------------------------------------------------------------------------
# Redis when REDIS_URL/CELERY_BROKER_URL is set, otherwise kombu's file-system transport
# under var/ so that the embedded set-up needs no broker process.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://")
CELERY_BROKER_DIR = Path(env.str("CELERY_BROKER_DIR", default=str(VAR_DIR / "broker")))
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
# The longest task's hard limit; celery_app sets the Redis visibility timeout above it.
CELERY_LONGEST_TASK_SECONDS = Tunables.CELERY_LONGEST_TASK_SECONDS.from_env()
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"

# --- Logging (the platform's tunables are in facecommons.common.tunables) -------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"django.request": {"level": "ERROR"}},
}

SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# --- Content-Security-Policy (django-csp) and Permissions-Policy ----------------------
# Script and style only from our own files: no inline <script>, <style>, style="" or on*=
# handler anywhere (tests/common/test_csp.py fails on one in templates/). Images may be
# data: URLs: the TOTP set-up shows its QR code as a data: SVG. Photos themselves send a stricter policy of
# their own (contributions/views_image.py), which the middleware leaves in place.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        # blob: previews of the photos a person has just chosen, before sending (local only).
        "img-src": [SELF, "data:", "blob:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "media-src": [NONE],
        "object-src": [NONE],
        "frame-src": [NONE],
        "worker-src": [SELF],
        "manifest-src": [SELF],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
# Features no page uses are switched off for us and anything we might embed. The camera
# stays off too: phones take a photo through <input capture>, which needs no permission.
PERMISSIONS_POLICY = (
    "accelerometer=(), autoplay=(), camera=(), display-capture=(), encrypted-media=(), fullscreen=(self), "
    "geolocation=(), gyroscope=(), magnetometer=(), microphone=(), midi=(), payment=(), "
    "picture-in-picture=(), publickey-credentials-get=(self), screen-wake-lock=(), sync-xhr=(), usb=(), "
    "xr-spatial-tracking=(), browsing-topics=()"
)
