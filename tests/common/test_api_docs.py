"""The API docs name one way to send a key: ``Authorization: Token <key>``, and both kinds of
key work that way and as ``Bearer`` (issue 15, part 7)."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def test_every_key_scheme_is_the_same_header(api_client):
    schemes = api_client.get("/api/schema/?format=json").json()["components"]["securitySchemes"]
    keyed = {name: s for name, s in schemes.items() if s.get("in") != "cookie"}
    assert set(keyed) == {"tokenAuth", "researcherToken"}
    for s in keyed.values():
        assert (s["type"], s["in"], s["name"]) == ("apiKey", "header", "Authorization")
        assert "`Authorization: Token " in s["description"] and "`Bearer " in s["description"]


@pytest.mark.parametrize("keyword", ["Token", "Bearer"])
def test_both_kinds_of_key_work_with_either_keyword(make_user, keyword):
    from facecommons.accounts.tokens import api_token_issue
    from facecommons.releases.services import token_create

    researcher = make_user(role="researcher")
    for key in (api_token_issue(user=researcher, name="docs")[1], token_create(user=researcher, name="docs")[1]):
        c = APIClient()
        c.credentials(HTTP_AUTHORIZATION=f"{keyword} {key}")
        assert c.get("/api/v1/snapshots/").status_code == 200, (keyword, key[:4])
