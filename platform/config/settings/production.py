"""Production: secrets and hosts must come from the environment; HTTPS; MFA for staff."""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import env

DEBUG = False


def _real_secret_key(key: str) -> str:
    """Refuse to start on a missing, short or placeholder key (Django only warns)."""
    if len(key) < 50 or len(set(key)) < 5 or key.startswith("django-insecure-"):
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY must be a random value of at least 50 characters, e.g. "
            "python -c 'import secrets; print(secrets.token_urlsafe(50))'.")
    return key


def _real_allowed_hosts(hosts: list[str]) -> list[str]:
    hosts = [h for h in (h.strip() for h in hosts) if h]
    if not hosts or "*" in hosts:
        raise ImproperlyConfigured("DJANGO_ALLOWED_HOSTS must name this site's host names (no '*').")
    return hosts


SECRET_KEY = _real_secret_key(env.str("DJANGO_SECRET_KEY", default=""))
ALLOWED_HOSTS = _real_allowed_hosts(env.list("DJANGO_ALLOWED_HOSTS", default=[]))
REQUIRE_MFA_FOR_STAFF = env.bool("REQUIRE_MFA_FOR_STAFF", default=True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
# The load balancer's health check speaks plain HTTP inside the network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
# check --deploy asks for preload; an operator whose sub-domains cannot all do HTTPS turns
# both off (preload lists are slow to leave).
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=True)
STORAGES["staticfiles"] = {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}  # noqa: F405
