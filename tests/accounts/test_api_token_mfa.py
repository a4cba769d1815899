"""A token must not be a way around two-factor authentication."""

from __future__ import annotations

import time

import pytest

pytestmark = pytest.mark.django_db


def _activate_totp(user) -> str:
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    return secret


def _current_code(secret: str) -> str:
    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


def test_token_requires_the_totp_code_when_two_factor_is_on(api_client, make_user, password):
    moderator = make_user(role="moderator")
    secret = _activate_totp(moderator)
    url = "/api/v1/auth/token/"

    r = api_client.post(url, {"email": moderator.email, "password": password}, format="json")
    assert r.status_code == 401 and r.json()["error"]["code"] == "otp_required"

    r = api_client.post(url, {"email": moderator.email, "password": password, "otp": "000000"}, format="json")
    assert r.status_code == 401 and r.json()["error"]["code"] == "otp_invalid"

    r = api_client.post(url, {"email": moderator.email, "password": password, "otp": _current_code(secret)},
                        format="json")
    assert r.status_code == 200 and r.json()["token"]


def test_token_without_two_factor_needs_no_code(api_client, make_user, password):
    user = make_user()
    r = api_client.post("/api/v1/auth/token/", {"email": user.email, "password": password}, format="json")
    assert r.status_code == 200 and r.json()["token"]
