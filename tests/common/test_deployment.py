"""Docker is not available in CI: check that the compose file parses and is complete."""

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def test_compose_file_names_every_service_with_health_checks():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"web", "worker", "beat", "redis", "cockroach"} <= set(services)
    for name in ("web", "worker", "beat", "redis", "cockroach"):
        assert "healthcheck" in services[name], f"{name} has no health check"
    # web, worker and beat are built from the one Dockerfile.
    for name in ("web", "worker", "beat"):
        assert services[name]["build"] == "."
    assert services["web"]["environment"]["DATABASE_URL"].startswith("cockroachdb://")
    assert "gunicorn" in services["web"]["command"]
    assert "worker" in services["worker"]["command"] and "beat" in services["beat"]["command"]
    assert {"appdata", "redisdata", "cockroachdata"} <= set(compose["volumes"])
    assert (ROOT / "Dockerfile").exists()


def test_cockroach_database_url_maps_to_django_cockroachdb():
    import environ

    from config.settings import base  # noqa: F401  (registers the cockroachdb scheme)

    cfg = environ.Env.db_url_config("cockroachdb://root@cockroach:26257/facecommons?sslmode=disable")
    assert cfg["ENGINE"] == "django_cockroachdb"
    assert cfg["NAME"] == "facecommons" and cfg["PORT"] == 26257


def test_production_settings_refuse_to_start_without_a_secret(monkeypatch):
    import importlib

    from django.core.exceptions import ImproperlyConfigured

    monkeypatch.delenv("DJANGO_SECRET_KEY", raising=False)
    monkeypatch.setenv("DJANGO_ALLOWED_HOSTS", "example.org")
    import sys

    sys.modules.pop("config.settings.production", None)
    try:
        importlib.import_module("config.settings.production")
    except ImproperlyConfigured as exc:
        assert "DJANGO_SECRET_KEY" in str(exc)
    else:
        raise AssertionError("production settings started without DJANGO_SECRET_KEY")
