"""A strict CSP with nothing inline, Permissions-Policy, and production settings that
check --deploy accepts and that refuse to start without a real key and hosts (issue 14, part 3)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

from tests.common.inline import assert_strict_headers, external_assets, inline_violations

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "templates"
REAL_KEY = "k3y-" + "x9Qz" * 14


def test_scanner_finds_each_kind_of_inline():
    assert inline_violations('<script>alert(1)</script>')
    assert inline_violations('<style>p{}</style>')
    assert inline_violations('<p style="color:red">')
    assert inline_violations('<select onchange="this.form.submit()">')
    assert inline_violations('<a href="javascript:void(0)">')
    assert not inline_violations('<script src="/static/x.js"></script><p data-onchange="x" class="style">')
    assert not inline_violations('<script id="d" type="application/json">{"a": 1}</script>')


def test_scanner_finds_assets_from_elsewhere():
    assert external_assets('<script src="https://cdn.example.com/x.js"></script>')
    assert external_assets('<link rel="stylesheet" href="//fonts.example.com/a.css">')
    assert external_assets('<img alt="" src="/static/cdn/x.png">')
    assert not external_assets('<script src="/static/js/tables.js"></script><a href="https://example.org/">x</a>'
                               '<input type="hidden" name="csrfmiddlewaretoken" value="kogg3ppcdncayx">')


def test_no_inline_script_style_or_handler_in_any_template():
    """Every file in templates/: the CSP refuses inline code, so none may be written."""
    problems = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        problems += [f"{path.relative_to(ROOT)}: {v}" for v in inline_violations(path.read_text())]
    assert not problems, "\n".join(problems)


@pytest.mark.django_db
def test_pages_and_api_send_strict_headers(make_user):
    anonymous, user = Client(), Client()
    user.force_login(make_user())
    for client, path in [(anonymous, "/"), (anonymous, "/accounts/login/"), (anonymous, "/accounts/signup/"),
                         (anonymous, "/api/v1/taxonomy/"), (anonymous, "/api/v1/contributions/"),
                         (anonymous, "/api/docs/"), (anonymous, "/no-such-page/"),
                         (user, "/upload/"), (user, "/photos/"), (user, "/account/"), (user, "/api/v1/contributions/")]:
        response = client.get(path)
        assert_strict_headers(response, path)
        if response.get("Content-Type", "").startswith("text/html"):
            body = response.content.decode()
            assert not inline_violations(body), (path, inline_violations(body))
            assert not external_assets(body), (path, external_assets(body))


@pytest.mark.django_db
def test_api_docs_are_served_offline_without_inline_script():
    page = Client().get("/api/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    script = Client().get("/api/docs/?script=")
    assert script.status_code == 200 and script["Content-Type"].startswith("application/javascript")


def _production_env(**overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update({"DJANGO_SETTINGS_MODULE": "config.settings.production", "DJANGO_SECRET_KEY": REAL_KEY,
                "DJANGO_ALLOWED_HOSTS": "faces.example.org"})
    env.update(overrides)
    return {k: v for k, v in env.items() if v is not None}


def test_check_deploy_is_clean_under_production_settings():
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
                            cwd=ROOT, env=_production_env(), capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(("key", "hosts"), [("", "faces.example.org"), ("short", "faces.example.org"),
                                             ("a" * 60, "faces.example.org"),
                                             ("django-insecure-" + "x9Qz" * 12, "faces.example.org"),
                                             (REAL_KEY, ""), (REAL_KEY, "*")])
def test_production_refuses_to_start_without_real_key_and_hosts(monkeypatch, key, hosts):
    import importlib

    from django.core.exceptions import ImproperlyConfigured

    monkeypatch.setenv("DJANGO_SECRET_KEY", key)
    monkeypatch.setenv("DJANGO_ALLOWED_HOSTS", hosts)
    monkeypatch.delitem(sys.modules, "config.settings.production", raising=False)
    with pytest.raises(ImproperlyConfigured) as exc:
        importlib.import_module("config.settings.production")
    assert ("DJANGO_SECRET_KEY" if key != REAL_KEY else "DJANGO_ALLOWED_HOSTS") in str(exc.value)
    monkeypatch.setenv("DJANGO_SECRET_KEY", REAL_KEY)
    monkeypatch.setenv("DJANGO_ALLOWED_HOSTS", "faces.example.org")
    monkeypatch.delitem(sys.modules, "config.settings.production", raising=False)
    assert importlib.import_module("config.settings.production").SECRET_KEY == REAL_KEY
