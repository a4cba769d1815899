"""StaffMFAMiddleware: with REQUIRE_MFA_FOR_STAFF, moderators and admins need a TOTP authenticator."""

from __future__ import annotations

import pytest
from django.test import override_settings
from django.urls import reverse

pytestmark = pytest.mark.django_db


def _activate_totp(user):
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    return TOTP.activate(user, generate_totp_secret())


@pytest.fixture(autouse=True)
def require_mfa():
    with override_settings(REQUIRE_MFA_FOR_STAFF=True):
        yield


@pytest.mark.parametrize("role", ["moderator", "admin"])
def test_staff_without_totp_is_sent_to_totp_activation(client, make_user, role, password):
    client.force_login(make_user(role=role))
    for url in ("/my/photos/", "/account/", "/upload/"):
        r = client.get(url)
        assert r.status_code == 302 and r["Location"] == reverse("mfa_activate_totp"), url
    # The way to activation (under /accounts/) stays open: allauth asks for the password
    # again, then shows the activation page, with no redirect loop through the middleware.
    r = client.get(reverse("mfa_activate_totp"))
    assert r.status_code == 302 and r["Location"].startswith(reverse("account_reauthenticate"))
    assert client.get(r["Location"]).status_code == 200
    r = client.post(r["Location"], {"password": password})
    assert r.status_code == 302 and r["Location"] == reverse("mfa_activate_totp")
    page = client.get(r["Location"])
    assert page.status_code == 200 and 'class="site-header"' in page.content.decode()


@pytest.mark.parametrize("role", ["moderator", "admin"])
def test_staff_without_totp_gets_403_json_from_the_api(client, client_for, make_user, role):
    user = make_user(role=role)
    client.force_login(user)
    r = client.get("/api/v1/contributions/")
    assert r.status_code == 403 and r.json()["error"]["code"] == "mfa_required"
    # Token authentication happens inside DRF, after middleware: it must not be a way around.
    r = client_for(user).get("/api/v1/contributions/")
    assert r.status_code == 403 and r.json()["error"]["code"] == "mfa_required"


@pytest.mark.parametrize("role", ["moderator", "admin"])
def test_staff_with_totp_pass(client, client_for, make_user, role):
    user = make_user(role=role)
    _activate_totp(user)
    client.force_login(user)
    assert client.get("/my/photos/").status_code == 200
    assert client.get("/api/v1/contributions/").status_code == 200
    assert client_for(user).get("/api/v1/contributions/").status_code == 200


@pytest.mark.parametrize("role", ["contributor", "researcher"])
def test_other_roles_are_unaffected(client, client_for, make_user, role):
    user = make_user(role=role)
    client.force_login(user)
    assert client.get("/my/photos/").status_code == 200
    assert client_for(user).get("/api/v1/contributions/").status_code == 200


def test_anonymous_and_off_switch(client, make_user):
    assert client.get("/").status_code == 200
    with override_settings(REQUIRE_MFA_FOR_STAFF=False):
        client.force_login(make_user(role="moderator"))
        assert client.get("/my/photos/").status_code == 200


def test_production_settings_turn_it_on():
    import ast
    import re
    from pathlib import Path

    src = (Path(__file__).resolve().parents[2] / "platform/config/settings/production.py").read_text()
    ast.parse(src)
    assert re.search(r'REQUIRE_MFA_FOR_STAFF = env\.bool\("REQUIRE_MFA_FOR_STAFF", default=True\)', src)
