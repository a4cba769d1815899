"""API: token issuance (with the shared login lockout) and consent."""

from __future__ import annotations

import uuid

import pytest
from django.utils import timezone

from facecommons.accounts.models import ConsentAcceptance, ConsentVersion

pytestmark = pytest.mark.django_db
TOKEN = "/api/v1/auth/token/"
CONSENT = "/api/v1/consent/"


@pytest.fixture(autouse=True)
def private_cache(settings):
    """Rate-limit counters live in the cache: give each test its own, never flush a shared one."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                                   "LOCATION": f"test-{uuid.uuid4()}"}}


def error(resp, status):
    assert resp.status_code == status, resp.content
    body = resp.json()
    assert set(body) == {"error"}
    return body["error"]


def test_token_issued_and_usable(api_client, make_user, password):
    user = make_user()
    resp = api_client.post(TOKEN, {"email": user.email.upper(), "password": password}, format="json")
    assert resp.status_code == 200, resp.content
    token = resp.json()["token"]
    assert token.startswith("fct_") and len(token) > 40
    again = api_client.post(TOKEN, {"email": user.email, "password": password}, format="json").json()["token"]
    assert again != token  # a new token each time (tests/accounts/test_tokens.py)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api_client.get("/api/v1/contributions/").status_code == 200


@pytest.mark.parametrize("payload", [
    {}, {"email": "a@example.org"}, {"password": "x"}, {"email": "a@example.org", "password": ""},
])
def test_token_malformed_400(api_client, payload):
    err = error(api_client.post(TOKEN, payload, format="json"), 400)
    assert err["code"] == "invalid" and err["fields"]


def test_token_for_an_address_no_account_has_is_wrong_credentials(api_client):
    """Any string is a well-formed login: one that is no account's address (whatever its
    form) is wrong credentials, as the schema says, not malformed input."""
    err = error(api_client.post(TOKEN, {"email": "not-an-email", "password": "x"}, format="json"), 400)
    assert err["code"] == "invalid_credentials"


def test_token_bad_credentials_same_answer(api_client, make_user, password):
    user = make_user()
    wrong = error(api_client.post(TOKEN, {"email": user.email, "password": "wrong-password-1"}, format="json"), 400)
    unknown = error(api_client.post(TOKEN, {"email": "nobody@example.org", "password": password}, format="json"),
                    400)
    assert wrong == unknown == {"code": "invalid_credentials",
                                "message": "The email address or password is not correct."}


def test_token_refused_for_inactive_withdrawn_unverified(api_client, make_user, password):
    from allauth.account.models import EmailAddress

    inactive = make_user()
    inactive.is_active = False
    inactive.save(update_fields=["is_active"])
    assert error(api_client.post(TOKEN, {"email": inactive.email, "password": password}, format="json"),
                 400)["code"] == "invalid_credentials"
    withdrawn = make_user()
    withdrawn.withdrawn_at = timezone.now()
    withdrawn.save(update_fields=["withdrawn_at"])
    assert error(api_client.post(TOKEN, {"email": withdrawn.email, "password": password}, format="json"),
                 400)["code"] == "invalid_credentials"
    unverified = make_user()
    EmailAddress.objects.filter(user=unverified).update(verified=False)
    err = error(api_client.post(TOKEN, {"email": unverified.email, "password": password}, format="json"), 400)
    assert err["code"] == "email_unverified" and "verify" in err["message"]


def test_token_lockout_after_failed_attempts(api_client, make_user, password, settings):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "login_failed": "100/m/ip,3/5m/key"}
    user = make_user()
    for _ in range(3):
        error(api_client.post(TOKEN, {"email": user.email, "password": "wrong-password-1"}, format="json"), 400)
    # Locked now, even with the right password; another account is not affected.
    err = error(api_client.post(TOKEN, {"email": user.email, "password": password}, format="json"), 429)
    assert err["code"] == "too_many_attempts"
    other = make_user()
    assert api_client.post(TOKEN, {"email": other.email, "password": password}, format="json").status_code == 200


def test_token_lockout_shared_with_web_login(client, api_client, make_user, password, settings):
    """Failures on the web login count against the API too (one lockout, in the cache)."""
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "login_failed": "100/m/ip,2/5m/key"}
    user = make_user()
    for _ in range(2):
        client.post("/accounts/login/", {"login": user.email, "password": "wrong-password-1"})
    assert api_client.post(TOKEN, {"email": user.email, "password": password}, format="json").status_code == 429


# --- consent ------------------------------------------------------------------------------

def test_consent_get_anonymous(api_client):
    body = api_client.get(CONSENT).json()
    assert body["version"] == 1 and "18 or older" in body["text"] and body["accepted"] is False


def test_consent_accept_flow(make_user, client_for):
    user = make_user(consent=False)
    c = client_for(user)
    assert c.get(CONSENT).json()["accepted"] is False
    err = error(c.post(CONSENT, {"version": 1, "adult": False}, format="json"), 400)
    assert "18 or older" in err["message"]
    err = error(c.post(CONSENT, {"version": 7, "adult": True}, format="json"), 400)
    assert "not the current consent" in err["message"]
    err = error(c.post(CONSENT, {"adult": True}, format="json"), 400)
    assert "version" in err["fields"]
    err = error(c.post(CONSENT, {"version": "abc", "adult": "maybe"}, format="json"), 400)
    assert set(err["fields"]) == {"version", "adult"}
    resp = c.post(CONSENT, {"version": 1, "adult": True}, format="json")
    assert resp.status_code == 201 and resp.json()["version"] == 1
    body = c.get(CONSENT).json()
    assert body["accepted"] is True and body["accepted_at"]
    # A new version must be accepted again.
    ConsentVersion.objects.create(version=2, text="Version two.", published_at=timezone.now())
    body = c.get(CONSENT).json()
    assert body["version"] == 2 and body["accepted"] is False
    assert c.post(CONSENT, {"version": 2, "adult": True}, format="json").status_code == 201
    assert ConsentAcceptance.objects.filter(user=user).count() == 2


def test_consent_post_requires_login(api_client):
    resp = api_client.post(CONSENT, {"version": 1, "adult": True}, format="json")
    assert resp.status_code in (401, 403) and "error" in resp.json()
