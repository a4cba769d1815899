"""API tokens: a new named, expiring token per request, listed and revocable on the account
page, dead after a password change or reset or "log out everywhere" (issue 14, part 2)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from facecommons.accounts.models import ApiToken, User
from facecommons.common.models import AuditEvent

pytestmark = pytest.mark.django_db
TOKEN = "/api/v1/auth/token/"
MINE = "/api/v1/contributions/"
NEW_PASSWORD = "a-completely-new-password-77"


def _get_token(email: str, password: str, name: str = "") -> dict:
    resp = APIClient().post(TOKEN, {"email": email, "password": password, "name": name}, format="json")
    assert resp.status_code == 200, resp.content
    return resp.json()


def _with(key: str) -> APIClient:
    c = APIClient()
    c.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return c


def test_each_request_issues_a_new_named_expiring_token(make_user, password, settings):
    user = make_user()
    first = _get_token(user.email, password, name="laptop")
    second = _get_token(user.email, password)
    assert first["token"] != second["token"] and first["token"].startswith("fct_")
    assert first["name"] == "laptop" and second["name"] == "API token"
    lifetime = timezone.datetime.fromisoformat(first["expires_at"]) - timezone.datetime.fromisoformat(
        first["created_at"])
    assert lifetime == timedelta(days=90)
    # Both work; only hashes are stored; last use is recorded.
    assert _with(first["token"]).get(MINE).status_code == 200
    assert _with(second["token"]).get(MINE).status_code == 200
    rows = ApiToken.objects.filter(user=user)
    assert rows.count() == 2 and not rows.filter(key_hash__in=[first["token"], second["token"]]).exists()
    assert rows.get(pk=first["id"]).last_used_at is not None
    settings.API_TOKEN_TTL_DAYS = 7
    third = _get_token(user.email, password)
    assert ApiToken.objects.get(pk=third["id"]).expires_at - ApiToken.objects.get(pk=third["id"]).created_at \
        == timedelta(days=7)


def test_expired_token_is_401(make_user, password):
    user = make_user()
    body = _get_token(user.email, password)
    ApiToken.objects.filter(pk=body["id"]).update(expires_at=timezone.now() - timedelta(seconds=1))
    resp = _with(body["token"]).get(MINE)
    assert resp.status_code == 401 and resp.json()["error"]["code"] == "authentication_failed"


def test_password_change_kills_every_token(make_user, password):
    from facecommons.releases.services import token_create

    user = make_user(role="researcher")
    key = _get_token(user.email, password)["token"]
    personal = token_create(user=user, name="script")[1]
    web = Client()
    web.force_login(user)
    resp = web.post("/accounts/password/change/", {"oldpassword": password, "password1": NEW_PASSWORD,
                                                   "password2": NEW_PASSWORD})
    assert resp.status_code == 302, resp.content[:500]
    assert _with(key).get(MINE).status_code == 401
    revoked = _with(personal).get("/api/v1/snapshots/")
    assert revoked.status_code == 403 and revoked.json()["error"]["code"] == "token_revoked"
    assert not ApiToken.objects.filter(user=user).exists()
    # The session that changed the password stays logged in; a new token works.
    assert web.get("/account/").status_code == 200
    assert _with(_get_token(user.email, NEW_PASSWORD)["token"]).get(MINE).status_code == 200


def test_password_reset_kills_every_token(make_user, password):
    user = make_user()
    key = _get_token(user.email, password)["token"]
    web = Client()
    assert web.post("/accounts/password/reset/", {"email": user.email}).status_code == 302
    link = re.search(r"http://testserver(/accounts/password/reset/key/\S+)", mail.outbox[-1].body).group(1)
    form_url = web.get(link).url if web.get(link).status_code == 302 else link
    resp = web.post(form_url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert resp.status_code == 302, resp.content[:500]
    assert User.objects.get(pk=user.pk).check_password(NEW_PASSWORD)
    assert _with(key).get(MINE).status_code == 401


def test_password_set_anywhere_kills_every_token(make_user, password):
    """Even a change outside allauth (a shell, `manage.py changepassword`) ends the API token
    and the researcher's personal token, which is not bound to the password's hash."""
    from facecommons.releases.services import token_create

    user = make_user(role="researcher")
    key = _get_token(user.email, password)["token"]
    personal = token_create(user=user, name="script")[1]
    user.last_declared_categories = {"lighting": "indoor"}
    user.save()  # any other save leaves the tokens alone
    assert _with(personal).get("/api/v1/snapshots/").status_code != 403
    user.set_password(NEW_PASSWORD)
    user.save(update_fields=["password"])
    assert _with(key).get(MINE).status_code == 401
    revoked = _with(personal).get("/api/v1/snapshots/")
    assert revoked.status_code == 403 and revoked.json()["error"]["code"] == "token_revoked"
    assert AuditEvent.objects.filter(action="api_tokens_revoked", object_id=str(user.pk)).exists()


def test_admin_password_form_kills_every_token(make_user, password):
    """An admin resetting a researcher's password in the admin ends the researcher's tokens."""
    from facecommons.releases.services import token_create

    admin = make_user(role="admin")
    user = make_user(role="researcher")
    personal = token_create(user=user, name="script")[1]
    web = Client()
    web.force_login(admin)
    resp = web.post(f"/admin/accounts/user/{user.pk}/password/",
                    {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"})
    assert resp.status_code == 302, resp.content[:800]
    assert User.objects.get(pk=user.pk).check_password(NEW_PASSWORD)
    revoked = _with(personal).get("/api/v1/snapshots/")
    assert revoked.status_code == 403 and revoked.json()["error"]["code"] == "token_revoked"


def test_account_page_lists_and_revokes_tokens(make_user, password):
    user = make_user()
    web = Client()
    web.force_login(user)
    page = web.post("/account/", {"action": "create_token", "name": "phone app"}).content.decode()
    key = re.search(r'id="new-token">(fct_[^<]+)<', page).group(1)
    assert _with(key).get(MINE).status_code == 200
    listing = web.get("/account/").content.decode()
    assert "phone app" in listing and key[:10] in listing and key not in listing  # shown once
    token = ApiToken.objects.get(user=user)
    other = make_user()
    other_key = _get_token(other.email, password)["token"]
    # Someone else's token id is not ours to revoke.
    web.post("/account/", {"action": "revoke_token", "token": ApiToken.objects.get(user=other).pk})
    assert _with(other_key).get(MINE).status_code == 200
    web.post("/account/", {"action": "revoke_token", "token": token.pk})
    assert _with(key).get(MINE).status_code == 401
    assert AuditEvent.objects.filter(action="api_token_revoked").count() == 1


def test_log_out_everywhere_ends_sessions_and_tokens(make_user, password):
    from facecommons.releases.services import token_create

    user = make_user(role="researcher")
    key = _get_token(user.email, password)["token"]
    personal = token_create(user=user, name="script")[1]
    here, elsewhere = Client(), Client()
    assert here.post("/accounts/login/", {"login": user.email, "password": password}).status_code == 302
    assert elsewhere.post("/accounts/login/", {"login": user.email, "password": password}).status_code == 302
    assert elsewhere.get("/account/").status_code == 200
    resp = here.post("/account/", {"action": "logout_everywhere"})
    assert resp.status_code == 302 and resp.url.startswith("/accounts/login/")
    for client in (here, elsewhere):
        assert client.get("/account/").status_code == 302  # to the login page
    assert _with(key).get(MINE).status_code == 401
    assert _with(personal).get("/api/v1/snapshots/").status_code == 403
    assert AuditEvent.objects.filter(action="logged_out_everywhere", object_id=str(user.pk)).exists()
    # Logging in again works, and so does a fresh token.
    assert here.post("/accounts/login/", {"login": user.email, "password": password}).status_code == 302
    assert here.get("/account/").status_code == 200
    assert _with(_get_token(user.email, password)["token"]).get(MINE).status_code == 200


def test_personal_token_keeps_its_scope(make_user):
    """A researcher's fcr_ token opens the release endpoints, and nothing else."""
    from facecommons.releases.services import token_create

    researcher = make_user(role="researcher")
    personal = token_create(user=researcher, name="script")[1]
    assert _with(personal).get("/api/v1/snapshots/").status_code == 200
    assert _with(personal).get(MINE).status_code in (401, 403)
    assert _with(personal).get("/api/v1/me/rewards/").status_code in (401, 403)


def test_malformed_token_headers_are_401(make_user):
    for header in ("Token", "Token a b", "Token fct_nope", "Bearer fct_nope", "Token \xff"):
        c = APIClient()
        c.credentials(HTTP_AUTHORIZATION=header)
        assert c.get(MINE).status_code == 401, header
