"""Sign-up with e-mail verification, login refusal before verification, login lockout."""

from __future__ import annotations

import re

import pytest
from allauth.account.models import EmailAddress
from django.test import override_settings

from facecommons.accounts.models import User

pytestmark = pytest.mark.django_db
PASSWORD = "a-long-contributor-passphrase-3"


def _signup(client, email):
    return client.post("/accounts/signup/", {"email": email, "password1": PASSWORD, "password2": PASSWORD})


def test_signup_sends_verification_mail_and_login_waits_for_it(client, mailoutbox):
    r = _signup(client, "New.Person@example.org")
    assert r.status_code == 302 and r["Location"] == "/accounts/confirm-email/"
    user = User.objects.get(email="new.person@example.org")
    assert list(user.groups.values_list("name", flat=True)) == ["contributor"]
    assert not EmailAddress.objects.get(user=user).verified
    assert "_auth_user_id" not in client.session
    assert len(mailoutbox) == 1 and mailoutbox[0].to == ["new.person@example.org"]
    link = re.search(r"https?://[^/\s]+(/accounts/confirm-email/[^\s]+/)", mailoutbox[0].body).group(1)

    # Logging in before verifying: no session, a new link is sent instead.
    other = client.__class__()
    r = other.post("/accounts/login/", {"login": "new.person@example.org", "password": PASSWORD})
    assert "_auth_user_id" not in other.session
    assert r.status_code == 302 and r["Location"] == "/accounts/confirm-email/"
    assert other.get("/my/photos/").status_code == 302

    # Following the link (GET shows a confirm button, POST confirms).
    page = other.get(link)
    assert page.status_code == 200 and 'id="confirm-email-form"' in page.content.decode()
    other.post(link)
    assert EmailAddress.objects.get(user=user).verified
    r = other.post("/accounts/login/", {"login": "new.person@example.org", "password": PASSWORD})
    assert r.status_code == 302 and "_auth_user_id" in other.session


def test_signup_rejects_weak_password_and_duplicates(client, make_user, mailoutbox):
    r = client.post("/accounts/signup/", {"email": "weak@example.org", "password1": "12345", "password2": "12345"})
    assert r.status_code == 200 and "too short" in r.content.decode()
    make_user(email="taken@example.org")
    _signup(client, "taken@example.org")
    assert User.objects.filter(email="taken@example.org").count() == 1


@override_settings(ACCOUNT_RATE_LIMITS={"login_failed": "1000/m/ip,5/5m/key", "login": "1000/m/ip"})
def test_repeated_failures_lock_the_account_even_for_the_right_password(client, make_user, password):
    user = make_user(email="lockme@example.org")
    for _ in range(5):
        r = client.post("/accounts/login/", {"login": user.email, "password": "wrong-password-123"})
        assert r.status_code == 200 and "_auth_user_id" not in client.session
    r = client.post("/accounts/login/", {"login": user.email, "password": password})
    assert r.status_code == 200 and "_auth_user_id" not in client.session
    assert "Too many failed login attempts" in r.content.decode()
    # The lock is per account: another account still logs in from the same address.
    other = make_user(email="notlocked@example.org")
    r = client.post("/accounts/login/", {"login": other.email, "password": password})
    assert r.status_code == 302 and "_auth_user_id" in client.session


def test_successful_login_does_not_count_as_failure(client, make_user, password):
    user = make_user(email="fine@example.org")
    with override_settings(ACCOUNT_RATE_LIMITS={"login_failed": "1000/m/ip,3/5m/key", "login": "1000/m/ip"}):
        for _ in range(4):
            r = client.post("/accounts/login/", {"login": user.email, "password": password})
            assert r.status_code == 302
            client.logout()


def test_withdrawn_account_cannot_log_in(client, make_user, password):
    from facecommons.accounts.services import account_withdraw

    user = make_user(email="gone@example.org")
    account_withdraw(user=user)
    r = client.post("/accounts/login/", {"login": "gone@example.org", "password": password})
    assert "_auth_user_id" not in client.session and r.status_code == 200
