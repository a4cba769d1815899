"""`manage.py create_account`: verified, active accounts with a role, for operators."""

from __future__ import annotations

import io

import pytest
from allauth.account.models import EmailAddress
from django.core.management import CommandError, call_command

from facecommons.accounts.models import User
from facecommons.accounts.roles import is_admin, is_moderator, is_researcher

pytestmark = pytest.mark.django_db
PASSWORD = "a-long-operator-passphrase-7"


@pytest.mark.parametrize("role", ["contributor", "moderator", "researcher", "admin"])
def test_creates_verified_account_with_role(role, client):
    out = io.StringIO()
    call_command("create_account", email=f"Op-{role}@Example.org", password=PASSWORD, role=role, stdout=out)
    assert "Created" in out.getvalue()
    user = User.objects.get(email=f"op-{role}@example.org")
    assert user.is_active and user.check_password(PASSWORD)
    assert EmailAddress.objects.get(user=user).verified
    groups = set(user.groups.values_list("name", flat=True))
    assert "contributor" in groups and role in groups
    assert is_moderator(user) == (role in ("moderator", "admin"))
    assert is_researcher(user) == (role == "researcher")
    assert is_admin(user) == (role == "admin")
    assert user.is_staff == user.is_superuser == (role == "admin")
    # The account can log in at once (verified e-mail, no confirmation step).
    r = client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    assert r.status_code == 302 and "_auth_user_id" in client.session


def test_default_role_is_contributor():
    call_command("create_account", email="plain@example.org", password=PASSWORD, stdout=io.StringIO())
    assert list(User.objects.get(email="plain@example.org").groups.values_list("name", flat=True)) == ["contributor"]


def test_bad_role_is_refused():
    with pytest.raises(CommandError, match="invalid choice"):  # from the command line
        call_command("create_account", "--email", "x@example.org", "--password", PASSWORD, "--role", "superhero")
    with pytest.raises(CommandError, match="superhero"):  # from code
        call_command("create_account", email="x@example.org", password=PASSWORD, role="superhero")
    assert not User.objects.filter(email="x@example.org").exists()


@pytest.mark.parametrize("password", ["short", "1234567890123", "password123"])
def test_weak_password_is_refused(password):
    with pytest.raises(CommandError):
        call_command("create_account", email="weak@example.org", password=password)
    assert not User.objects.filter(email="weak@example.org").exists()


def test_duplicate_email_is_refused():
    call_command("create_account", email="dup@example.org", password=PASSWORD, stdout=io.StringIO())
    with pytest.raises(CommandError, match="already exists"):
        call_command("create_account", email="DUP@example.org", password=PASSWORD, role="admin")
    assert User.objects.filter(email__iexact="dup@example.org").count() == 1
    assert not User.objects.get(email="dup@example.org").is_staff


def test_email_and_password_are_required():
    with pytest.raises(CommandError):
        call_command("create_account", email="nopass@example.org")
