"""One exception path: hostile JSON and odd bodies get a 4xx in the error format, never a 500;
an unexpected error is a JSON 500 whose id is in the log (issue 14, part 1)."""

from __future__ import annotations

import json
import logging

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tests.factories import DEFAULT_CATEGORIES, make_contribution

pytestmark = pytest.mark.django_db
DEEP = "[" * 5000 + "]" * 5000
DEEP_OBJ = '{"a":' * 5000 + "1" + "}" * 5000
NON_OBJECTS = ["true", "[]", "1", '"x"', "null", "[1, 2]", "1.5"]


def assert_error(resp, status: int) -> dict:
    assert resp.status_code == status, resp.content[:300]
    assert resp["Content-Type"].startswith("application/json")
    body = resp.json()
    assert set(body) == {"error"} and {"code", "message"} <= set(body["error"])
    return body["error"]


def json_post_endpoints(make_user) -> list[tuple[str, str, object]]:
    """(method, url, who) for every endpoint that reads a JSON body."""
    contributor = make_user()
    moderator = make_user(role="moderator")
    admin = make_user(role="admin")
    researcher = make_user(role="researcher")
    c = make_contribution(owner=contributor)
    from facecommons.releases.services import agreement_current, application_submit

    application = application_submit(user=make_user(), name="A. Researcher", institution="Somewhere",
                                     purpose="Measuring demographic bias of face detectors.",
                                     agreement_version=agreement_current().version)
    return [
        ("post", "/api/v1/auth/token/", None),
        ("post", "/api/v1/consent/", contributor),
        ("post", "/api/v1/me/withdraw/", contributor),
        ("patch", f"/api/v1/contributions/{c.pk}/", contributor),
        ("post", "/api/v1/moderation/next/", moderator),
        ("post", f"/api/v1/moderation/{c.pk}/decision/", moderator),
        ("post", "/api/v1/snapshots/", admin),
        ("post", "/api/v1/researcher-applications/", researcher),
        ("post", f"/api/v1/researcher-applications/{application.pk}/decision/", admin),
        ("post", "/api/v1/evaluations/", admin),
        ("post", "/api/v1/donations/", admin),
    ]


def _client(client_for, who):
    from rest_framework.test import APIClient

    return APIClient() if who is None else client_for(who)


@pytest.mark.parametrize("body", [DEEP, DEEP_OBJ, "{" * 40 + "}" * 40])
def test_deep_json_is_400_on_every_json_endpoint(make_user, client_for, body):
    for method, url, who in json_post_endpoints(make_user):
        resp = getattr(_client(client_for, who), method)(url, body, content_type="application/json")
        assert resp.status_code == 400, (url, resp.content[:200])
        assert assert_error(resp, 400)["code"] == "parse_error", url


@pytest.mark.parametrize("body", NON_OBJECTS)
def test_non_object_bodies_are_400(make_user, client_for, body):
    for method, url, who in json_post_endpoints(make_user):
        resp = getattr(_client(client_for, who), method)(url, body, content_type="application/json")
        assert resp.status_code == 400, (url, body, resp.content[:200])
        assert_error(resp, 400)


def test_patch_contribution_with_non_objects_is_400(make_user, client_for):
    user = make_user()
    c = make_contribution(owner=user)
    client = client_for(user)
    for body in NON_OBJECTS:
        assert_error(client.patch(f"/api/v1/contributions/{c.pk}/", body, content_type="application/json"), 400)
    # Wrong types inside the object are refused too.
    for body in ({"categories": True}, {"categories": []}, {"categories": 1}, {"free_text": "x"},
                 {"categories": {"age_range": [[[]]]}}, {"categories": {"gender": {"a": 1}}}):
        assert_error(client.patch(f"/api/v1/contributions/{c.pk}/", body, format="json"), 400)


def test_oversized_json_body_is_413(make_user, client_for):
    user = make_user()
    c = make_contribution(owner=user)
    body = json.dumps({"categories": {"x": "y" * (300 * 1024)}})
    resp = client_for(user).patch(f"/api/v1/contributions/{c.pk}/", body, content_type="application/json")
    assert assert_error(resp, 413)["code"] == "request_too_large"


def test_invalid_utf8_body_is_400(api_client):
    resp = api_client.post("/api/v1/auth/token/", b"\xff\xfe{", content_type="application/json")
    assert_error(resp, 400)


@pytest.mark.parametrize("categories", [DEEP, DEEP_OBJ, "[]", "true", "{" * 40 + "}" * 40, "x" * (300 * 1024)])
def test_deep_or_wrong_categories_form_field_is_4xx(make_user, client_for, astronaut_jpeg, categories):
    client = client_for(make_user())
    resp = client.post("/api/v1/contributions/", {
        "image": SimpleUploadedFile("me.jpg", astronaut_jpeg, content_type="image/jpeg"),
        "categories": categories}, format="multipart")
    err = assert_error(resp, 413 if len(categories) > 256 * 1024 else 400)
    assert "categories" in err.get("fields", {}), err


def test_deep_free_text_form_field_is_400(make_user, client_for, astronaut_jpeg):
    client = client_for(make_user())
    resp = client.post("/api/v1/contributions/", {
        "image": SimpleUploadedFile("me.jpg", astronaut_jpeg, content_type="image/jpeg"),
        "categories": json.dumps(DEFAULT_CATEGORIES), "free_text": DEEP}, format="multipart")
    assert_error(resp, 400)


@pytest.mark.urls("tests.common.errors_urls")
def test_unexpected_error_in_api_view_is_json_500_with_logged_id(api_client, caplog):
    with caplog.at_level(logging.ERROR, logger="facecommons.api"):
        resp = api_client.get("/api/v1/_boom/")
    err = assert_error(resp, 500)
    assert err["code"] == "server_error" and len(err["id"]) == 16
    logged = [r for r in caplog.records if err["id"] in r.getMessage()]
    assert logged and logged[0].exc_info and logged[0].exc_info[0] is KeyError


@pytest.mark.urls("tests.common.errors_urls")
def test_production_error_pages_are_json_under_api(settings):
    settings.DEBUG = False
    client = Client(raise_request_exception=False)
    err = assert_error(client.get("/api/v1/no-such-endpoint/"), 404)
    assert err["code"] == "not_found"
    err = assert_error(client.get("/api/v1/_boom_plain/"), 500)
    assert err["code"] == "server_error" and err["id"]
    # Outside /api/ people get the HTML page.
    page = client.get("/_boom_page/")
    assert page.status_code == 500 and page["Content-Type"].startswith("text/html")


def test_production_settings_unknown_api_host_is_json_400(settings):
    settings.DEBUG = False
    settings.ALLOWED_HOSTS = ["example.org"]
    client = Client(raise_request_exception=False)
    resp = client.get("/api/v1/taxonomy/", HTTP_HOST="evil.example")
    assert_error(resp, 400)


@pytest.mark.parametrize("query", ["limit=abc", "limit=0", "offset=null", "offset=-1", "status=AAA"])
def test_malformed_list_parameters_are_400_not_ignored(make_user, client_for, query):
    """A page size, offset or filter the schema calls invalid is refused, not replaced by the default."""
    error = assert_error(client_for(make_user()).get(f"/api/v1/contributions/?{query}"), 400)
    assert error["code"] == "invalid" and query.split("=")[0] in error["fields"]


def test_held_ids_must_be_strings(make_user, client_for):
    """DRF's UUID field takes an integer (and so false) as a UUID's number; the schema says string."""
    moderator = client_for(make_user(role="moderator"))
    error = assert_error(moderator.post("/api/v1/moderation/next/", json.dumps({"held": [False]}),
                                        content_type="application/json"), 400)
    assert "held" in error["fields"]


def test_nested_field_errors_are_sentences_not_reprs(make_user, client_for):
    """An error inside a list item reads "item 2: ...", never Python's repr of DRF's errors."""
    researcher = client_for(make_user(role="researcher"))
    resp = researcher.post("/api/v1/training-runs/", json.dumps({
        "snapshot": "2026.1", "task": "category", "policy_values": ["ok", "bad\x00"]}), content_type="application/json")
    error = assert_error(resp, 400)
    assert error["fields"]["policy_values"] == ["item 2: Null characters are not allowed."]
    assert "ErrorDetail" not in error["message"]
