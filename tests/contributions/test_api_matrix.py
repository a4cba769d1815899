"""Authorisation matrix of the contributions and account API: endpoint x role -> status.

The contributions endpoints are "own only" for everyone (moderators use the moderation API);
the image endpoint also serves moderators and admins; to anyone else a photo does not exist.
"""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tests.factories import DEFAULT_CATEGORIES, make_contribution

pytestmark = pytest.mark.django_db
ROLES = ["anonymous", "owner", "other", "moderator", "researcher", "admin"]

# (method, url template, body, {role: expected status})
MATRIX = [
    ("get", "/api/v1/taxonomy/", None, dict.fromkeys(ROLES, 200)),
    ("get", "/api/v1/consent/", None, dict.fromkeys(ROLES, 200)),
    ("get", "/api/v1/contributions/", None, {**dict.fromkeys(ROLES, 200), "anonymous": 401}),
    ("get", "/api/v1/contributions/{id}/", None, {**dict.fromkeys(ROLES, 404), "anonymous": 401, "owner": 200}),
    ("patch", "/api/v1/contributions/{id}/", {"categories": {"age_range": "35_44"}},
     {**dict.fromkeys(ROLES, 404), "anonymous": 401, "owner": 200}),
    ("delete", "/api/v1/contributions/{id}/", None, {**dict.fromkeys(ROLES, 404), "anonymous": 401, "owner": 204}),
    ("get", "/api/v1/contributions/{id}/image/", None,
     {"anonymous": 404, "owner": 200, "other": 404, "moderator": 200, "researcher": 404, "admin": 200}),
    ("get", "/api/v1/contributions/{id}/image/?variant=thumbnail", None, dict.fromkeys(ROLES, 404)),
    ("get", "/my/photos/{id}/image/", None,
     {"anonymous": 404, "owner": 200, "other": 404, "moderator": 200, "researcher": 404, "admin": 200}),
    ("get", "/api/v1/me/export/", None, {**dict.fromkeys(ROLES, 200), "anonymous": 401}),
    # confirm=false: the authorisation is checked, nothing is withdrawn.
    ("post", "/api/v1/me/withdraw/", {"confirm": False}, {**dict.fromkeys(ROLES, 400), "anonymous": 401}),
    ("post", "/api/v1/consent/", {"version": 1, "adult": True}, {**dict.fromkeys(ROLES, 201), "anonymous": 401}),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("method", "url", "body", "expected"), MATRIX,
                         ids=[f"{m.upper()} {u}" for m, u, _b, _e in MATRIX])
def test_matrix(make_user, role, method, url, body, expected):
    owner = make_user()
    c = make_contribution(owner, status="awaiting_review", categories=dict(DEFAULT_CATEGORIES))
    client = APIClient()
    if role != "anonymous":
        user = owner if role == "owner" else make_user("contributor" if role == "other" else role)
        client.force_login(user) if url.startswith("/my/") else client.force_authenticate(user)
    resp = getattr(client, method)(url.format(id=c.pk), body, format="json")
    assert resp.status_code == expected[role], (role, method, url, resp.content[:200])
    if resp.status_code >= 400:
        assert "error" in resp.json()
