"""Every URL × anonymous / owner / other contributor / moderator / researcher / admin.

The rows live in ``tests/web/authz_matrix.py`` and in any ``tests/<app>/authz_rows.py``
(``AUTHZ_ROWS``), so each app adds its own URLs to the same matrix.
"""

from __future__ import annotations

import importlib
import itertools
from pathlib import Path

import pytest
from django.test import Client
from rest_framework.test import APIClient

from tests.common.inline import assert_strict_headers, inline_violations
from tests.web.authz_matrix import ACTORS, ADMIN_LOGIN, LOGIN, ROWS, Context, Row

pytestmark = pytest.mark.django_db
TESTS = Path(__file__).resolve().parents[1]


def _all_rows() -> list[Row]:
    rows = list(ROWS)
    for module_path in sorted(TESTS.glob("*/authz_rows.py")):
        module = importlib.import_module(f"tests.{module_path.parent.name}.authz_rows")
        rows.extend(getattr(module, "AUTHZ_ROWS", []))
    return rows


ALL_ROWS = _all_rows()
CASES = [pytest.param(row, actor, id=f"{row.id} as {actor}") for row, actor in itertools.product(ALL_ROWS, ACTORS)]


@pytest.fixture
def ctx(make_user, password, unique_face_jpeg):
    from tests.factories import make_contribution

    users = {"anonymous": None, "owner": make_user(), "other": make_user(), "moderator": make_user(role="moderator"),
             "researcher": make_user(role="researcher"), "admin": make_user(role="admin")}
    counter = itertools.count(1)
    return Context(users=users, photo=make_contribution(users["owner"], status="awaiting_review"),
                   password=password, unique_jpeg=lambda: unique_face_jpeg(next(counter)))


def _client(row: Row, user) -> Client | APIClient:
    if row.kind == "api":
        c = APIClient()
        if user is not None:
            from facecommons.accounts.tokens import api_token_issue

            c.credentials(HTTP_AUTHORIZATION=f"Token {api_token_issue(user=user, name='matrix')[1]}")
        return c
    c = Client()
    if user is not None:
        c.force_login(user)
    return c


def _request(row: Row, ctx: Context, client):
    fmt = {"photo": str(ctx.photo.pk), **ctx.extra}
    if row.setup is not None:
        fmt.update(row.setup(ctx) or {})
    path = row.path.format(**fmt)
    data = row.data(ctx) if callable(row.data) else row.data
    method = getattr(client, row.method.lower())
    if row.content_type == "json":
        return method(path, data, content_type="application/json")
    if row.content_type == "multipart" or row.method in ("POST",):
        return method(path, data or {})
    if data is not None:
        from urllib.parse import urlencode

        return method(path, urlencode(data, doseq=True), content_type="application/x-www-form-urlencoded")
    return method(path)


@pytest.mark.parametrize(("row", "actor"), CASES)
def test_authorization_matrix(row: Row, actor: str, ctx: Context):
    expected = row.expect[actor]
    response = _request(row, ctx, _client(row, ctx.users[actor]))
    where = f"{row.method} {row.path} as {actor}"
    if expected == LOGIN:
        assert response.status_code == 302, where
        assert response["Location"].startswith("/accounts/login/?next="), where
    elif expected == ADMIN_LOGIN:
        assert response.status_code == 302, where
        assert response["Location"].startswith("/admin/login/"), where
    else:
        assert response.status_code == expected, f"{where}: got {response.status_code}, expected {expected}"
    # Every answer, page or API, carries the CSP and the other security headers; no page
    # holds anything inline that the CSP would refuse.
    assert_strict_headers(response, where)
    if response.status_code == 200 and response.get("Content-Type", "").startswith("text/html"):
        assert not inline_violations(response.content.decode()), (where, inline_violations(response.content.decode()))
    if response.status_code == 404 and "/image/" in row.path:
        # No image bytes leak with a refusal.
        assert not response.get("Content-Type", "").startswith("image/"), where


def test_every_row_names_every_actor():
    for row in ALL_ROWS:
        assert set(row.expect) == set(ACTORS), row.id


def _routes(patterns, prefix=""):
    import re

    from django.urls import URLPattern, URLResolver

    for p in patterns:
        route = prefix + str(p.pattern)
        if isinstance(p, URLResolver):
            yield from ((r, m) for r, m in _routes(p.url_patterns, route))
        elif isinstance(p, URLPattern):
            yield "/" + re.sub(r"<[^>]+>", "{photo}", route), p.callback.__module__


def test_matrix_covers_every_foundation_url():
    """Every route of the accounts and contributions apps (pages and API) has a row."""
    from django.urls import get_resolver

    paths = {r.path.split("?")[0] for r in ALL_ROWS}
    foundation = {route for route, module in _routes(get_resolver().url_patterns)
                  if module.startswith(("facecommons.accounts", "facecommons.contributions", "facecommons.common",
                                        "drf_spectacular"))}
    assert len(foundation) >= 20
    assert sorted(foundation - paths) == []
