"""Contributions API: taxonomy, upload, list/detail/patch/delete, image endpoint, error shapes."""

from __future__ import annotations

import io
import json
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from facecommons.common.models import AuditEvent
from facecommons.contributions.models import Contribution
from tests.contributions.conftest import list_storage
from tests.factories import DEFAULT_CATEGORIES, jpeg_bytes, make_contribution

pytestmark = pytest.mark.django_db
URL = "/api/v1/contributions/"


def upload(client, data: bytes, name="me.jpg", ctype="image/jpeg", categories=None, **extra):
    payload = {"image": SimpleUploadedFile(name, data, content_type=ctype),
               "categories": json.dumps(categories if categories is not None else DEFAULT_CATEGORIES), **extra}
    return client.post(URL, payload, format="multipart")


def assert_error(resp, status, code=None, fragment=None):
    assert resp.status_code == status, resp.content[:500]
    body = resp.json()
    assert set(body) == {"error"} and {"code", "message"} <= set(body["error"])
    if code:
        assert body["error"]["code"] == code
    if fragment:
        assert fragment in body["error"]["message"]
    return body["error"]


def test_taxonomy_public(api_client):
    resp = api_client.get("/api/v1/taxonomy/")
    assert resp.status_code == 200
    body = resp.json()
    assert body["version"] == 1
    cats = {c["key"]: c for c in body["categories"]}
    assert list(cats) == ["age_range", "gender", "ethnicity", "skin_tone", "accessories", "lighting"]
    assert cats["ethnicity"]["multiple"] and not cats["age_range"]["multiple"]
    tones = cats["skin_tone"]["values"]
    assert [v["key"] for v in tones[:10]] == [str(i) for i in range(1, 11)]
    assert all(v["swatch"].startswith("#") for v in tones[:10])
    gender = {v["key"]: v for v in cats["gender"]["values"]}
    assert gender["self_describe"]["free_text"] is True
    assert gender["prefer_not_to_say"]["exclusive"] is True
    for key, cat in cats.items():
        has_pnts = any(v["key"] == "prefer_not_to_say" for v in cat["values"])
        assert has_pnts == (key != "lighting")


def test_upload_201_and_fetch_back(make_user, client_for, astronaut_jpeg, private_media):
    user = make_user()
    client = client_for(user)
    resp = upload(client, astronaut_jpeg, categories={**DEFAULT_CATEGORIES, "gender": "self_describe"},
                  free_text=json.dumps({"gender": "two-spirit"}))
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert body["status"] == "received" and body["status_label"] == "Received"
    assert body["free_text"] == {"gender": "two-spirit"}
    assert body["rejection_reason"] is None and body["editable"] is True
    assert (body["width"], body["height"]) == (512, 512)
    assert set(body["images"]) == {"original"}
    img = client.get(body["images"]["original"])
    assert img.status_code == 200
    assert img["Content-Type"] == "image/jpeg"
    assert img["Cache-Control"] == "private, no-store"
    assert img["X-Content-Type-Options"] == "nosniff"
    data = b"".join(img.streaming_content)
    assert Image.open(io.BytesIO(data)).size == (512, 512)
    # Listing and detail show only the owner's own.
    listing = client.get(URL).json()
    assert [c["id"] for c in listing["results"]] == [body["id"]]
    assert client.get(f"{URL}{body['id']}/").json()["id"] == body["id"]


def test_upload_without_consent_403(make_user, client_for, astronaut_jpeg, private_media):
    client = client_for(make_user(consent=False))
    assert_error(upload(client, astronaut_jpeg), 403, "consent_required", "consent")
    assert list_storage(private_media) == []


def test_upload_anonymous_401(api_client, astronaut_jpeg):
    resp = upload(api_client, astronaut_jpeg)
    assert resp.status_code in (401, 403)
    assert "error" in resp.json()


@pytest.mark.parametrize(("payload", "field"), [
    ({"categories": json.dumps(DEFAULT_CATEGORIES)}, "image"),
    ({"image": "not a file", "categories": json.dumps(DEFAULT_CATEGORIES)}, "image"),
    ({"image": None}, "categories"),
    ({"image": None, "categories": "{not json"}, "categories"),
    ({"image": None, "categories": "[1, 2]"}, "categories"),
    ({"image": None, "categories": json.dumps({"age_range": "25_34"})}, "gender"),
    ({"image": None, "categories": json.dumps({**DEFAULT_CATEGORIES, "age_range": "12"})}, "age_range"),
    ({"image": None, "categories": json.dumps(DEFAULT_CATEGORIES), "free_text": "nope"}, "free_text"),
])
def test_upload_bad_fields_400(make_user, client_for, payload, field, private_media):
    client = client_for(make_user())
    payload = dict(payload)
    if payload.get("image", "x") is None:
        payload["image"] = SimpleUploadedFile("me.jpg", jpeg_bytes(seed=1), content_type="image/jpeg")
    err = assert_error(client.post(URL, payload, format="multipart"), 400)
    assert field in err.get("fields", {}), err
    assert list_storage(private_media) == []


def test_upload_json_body_400(make_user, client_for):
    client = client_for(make_user())
    err = assert_error(client.post(URL, {"categories": DEFAULT_CATEGORIES}, format="json"), 400)
    assert "image" in err["fields"]


def test_upload_malformed_multipart_400(make_user, client_for):
    client = client_for(make_user())
    resp = client.generic("POST", URL, b"--xyz\r\nContent-Disposition: form-data; name=\"image\"\r\n\r\nabc",
                          content_type="multipart/form-data; boundary=")
    assert_error(resp, 400)


def test_upload_oversized_request_refused_before_parsing(make_user, client_for):
    client = client_for(make_user())
    body = b"0" * 1024
    resp = client.generic("POST", URL, body, content_type="multipart/form-data; boundary=xyz",
                          CONTENT_LENGTH=str(40 * 1024 * 1024))
    assert_error(resp, 413, "file_too_large", "25 MB")


def test_upload_26mb_file_413(make_user, client_for, private_media):
    client = client_for(make_user())
    big = jpeg_bytes(seed=3) + b"\0" * (26 * 1024 * 1024)
    assert_error(upload(client, big), 413, "file_too_large", "at most 25 MB")
    assert list_storage(private_media) == []


def test_upload_huge_text_field_413(make_user, client_for, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    client = client_for(make_user())
    resp = client.post(URL, {"image": SimpleUploadedFile("a.jpg", jpeg_bytes(seed=4), content_type="image/jpeg"),
                             "categories": "x" * 5000}, format="multipart")
    assert_error(resp, 413, "request_too_large")


def test_upload_415_and_409(make_user, client_for, astronaut_jpeg):
    client = client_for(make_user())
    assert_error(upload(client, b"GIF89a" + b"\0" * 100, name="a.gif", ctype="image/gif"), 415, "unsupported_format")
    assert upload(client, astronaut_jpeg).status_code == 201
    assert_error(upload(client_for(make_user()), astronaut_jpeg), 409, "duplicate", "already been uploaded")


def test_upload_429_daily_limit(make_user, client_for, unique_face_jpeg, settings):
    settings.UPLOADS_PER_DAY = 1
    client = client_for(make_user())
    assert upload(client, unique_face_jpeg(1)).status_code == 201
    assert_error(upload(client, unique_face_jpeg(2)), 429, "rate_limited")


def test_others_contributions_are_404(make_user, client_for):
    owner, other = make_user(), make_user()
    c = make_contribution(owner, status="received")
    client = client_for(other)
    for method in ("get", "patch", "delete"):
        resp = getattr(client, method)(f"{URL}{c.pk}/", {"categories": DEFAULT_CATEGORIES}, format="json")
        assert_error(resp, 404, "not_found")
    assert_error(client.get(f"{URL}{c.pk}/image/"), 404)
    assert client.get(URL).json()["results"] == []
    assert Contribution.objects.filter(pk=c.pk).exists()


def test_unknown_id_404(make_user, client_for):
    client = client_for(make_user())
    assert_error(client.get(f"{URL}{uuid.uuid4()}/"), 404)
    assert client.get(f"{URL}not-a-uuid/").status_code == 404


def test_patch_categories(make_user, client_for):
    user = make_user()
    c = make_contribution(user, status="awaiting_review")
    client = client_for(user)
    resp = client.patch(f"{URL}{c.pk}/", {"categories": {"age_range": "45_54", "gender": "self_describe"},
                                          "free_text": {"gender": "agender"}}, format="json")
    assert resp.status_code == 200, resp.content
    body = resp.json()
    assert body["categories"]["age_range"] == "45_54"
    assert body["categories"]["lighting"] == DEFAULT_CATEGORIES["lighting"]  # merged
    assert body["free_text"] == {"gender": "agender"}
    err = assert_error(client.patch(f"{URL}{c.pk}/", {"categories": {"age_range": "99"}}, format="json"), 400,
                       "invalid_categories")
    assert "age_range" in err["fields"]
    assert_error(client.patch(f"{URL}{c.pk}/", {}, format="json"), 400)


def test_patch_after_review_409(make_user, client_for):
    user = make_user()
    c = make_contribution(user, status="approved")
    resp = client_for(user).patch(f"{URL}{c.pk}/", {"categories": {"age_range": "45_54"}}, format="json")
    assert_error(resp, 409, "not_editable", "can no longer be changed")


def test_rejection_reason_shown(make_user, client_for):
    user = make_user()
    c = make_contribution(user, status="rejected", rejection_code="no_face",
                          rejection_message="We could not find a face.")
    body = client_for(user).get(f"{URL}{c.pk}/").json()
    assert body["rejection_reason"] == {"code": "no_face", "message": "We could not find a face."}
    assert body["editable"] is False


def test_delete_204_removes_files(make_user, client_for, private_media, django_capture_on_commit_callbacks):
    user = make_user()
    c = make_contribution(user, status="received")
    assert len(list_storage(private_media)) == 1
    with django_capture_on_commit_callbacks(execute=True):
        resp = client_for(user).delete(f"{URL}{c.pk}/")
    assert resp.status_code == 204
    assert list_storage(private_media) == []
    assert not Contribution.objects.filter(pk=c.pk).exists()


# --- image endpoint: who sees what --------------------------------------------------------

@pytest.mark.parametrize(("who", "expected"), [
    ("anonymous", 404), ("owner", 200), ("other", 404), ("moderator", 200), ("researcher", 404), ("admin", 200),
])
@pytest.mark.parametrize("web", [False, True])
def test_image_access_matrix(make_user, client_for, who, expected, web):
    from rest_framework.test import APIClient

    owner = make_user()
    c = make_contribution(owner, status="awaiting_review")
    users = {"owner": owner, "other": make_user(), "moderator": make_user("moderator"),
             "researcher": make_user("researcher"), "admin": make_user("admin")}
    if web:
        client = APIClient()
        if who != "anonymous":
            client.force_login(users[who])
        url = f"/my/photos/{c.pk}/image/?variant=original"
    else:
        client = APIClient() if who == "anonymous" else client_for(users[who])
        url = f"{URL}{c.pk}/image/?variant=original"
    resp = client.get(url)
    assert resp.status_code == expected
    if expected == 200:
        assert resp["Cache-Control"] == "private, no-store"
        assert resp["X-Content-Type-Options"] == "nosniff"
        assert b"".join(resp.streaming_content)[:3] == b"\xff\xd8\xff"
        viewed = AuditEvent.objects.filter(action="image_viewed", object_id=str(c.pk)).count()
        assert viewed == (0 if who == "owner" else 1)  # views by others are logged
    else:
        assert resp["Cache-Control"] == "private, no-store"


def test_image_unknown_and_missing_variant(make_user, client_for):
    user = make_user()
    c = make_contribution(user)
    client = client_for(user)
    assert_error(client.get(f"{URL}{c.pk}/image/?variant=thumbnail"), 404, "not_found", "no thumbnail")
    assert_error(client.get(f"{URL}{c.pk}/image/?variant=../../etc/passwd"), 404, "not_found", "Unknown image variant")
    assert client.get(f"{URL}{c.pk}/image/").status_code == 200  # original by default


def test_schema_documents_endpoints(api_client):
    resp = api_client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert resp.status_code == 200
    paths = json.loads(resp.content)["paths"]
    for p in ("/api/v1/taxonomy/", "/api/v1/contributions/", "/api/v1/contributions/{id}/",
              "/api/v1/contributions/{id}/image/", "/api/v1/auth/token/", "/api/v1/consent/",
              "/api/v1/me/export/", "/api/v1/me/withdraw/"):
        assert p in paths, p


def test_end_to_end_new_user_over_http(make_user, password, private_media, settings):
    """account -> token -> consent -> phone photo with GPS and a rotation flag -> fetch it back."""
    import uuid as _uuid

    from PIL import ImageDraw
    from rest_framework.test import APIClient

    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                                   "LOCATION": f"e2e-{_uuid.uuid4()}"}}
    user = make_user(consent=False)
    client = APIClient()
    token = client.post("/api/v1/auth/token/", {"email": user.email, "password": password}, format="json").json()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token['token']}")
    assert_error(upload(client, jpeg_bytes(seed=99)), 403, "consent_required")
    version = client.get("/api/v1/consent/").json()["version"]
    assert client.post("/api/v1/consent/", {"version": version, "adult": True}, format="json").status_code == 201

    upright = Image.new("RGB", (600, 800), (120, 120, 120))
    ImageDraw.Draw(upright).rectangle([0, 0, 199, 199], fill=(255, 0, 0))
    exif = Image.Exif()
    exif[0x0112] = 6  # the phone was held sideways: pixels stored rotated, display turns them back
    exif[0x0110] = "PhoneModelX"
    exif.get_ifd(0x8825).update({1: "N", 2: (48.0, 51.0, 24.0), 3: "E", 4: (2.0, 21.0, 3.0)})
    buf = io.BytesIO()
    upright.transpose(Image.Transpose.ROTATE_90).save(buf, "JPEG", quality=92, exif=exif.tobytes())
    resp = upload(client, buf.getvalue(), name="IMG_2024.JPG")
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert (body["width"], body["height"]) == (600, 800)

    got = client.get(body["images"]["original"])
    data = b"".join(got.streaming_content)
    stored = Image.open(io.BytesIO(data))
    assert stored.size == (600, 800)
    r, g, b = stored.getpixel((100, 100))
    assert r > 200 and g < 60 and b < 60  # upright: the red block is top-left
    assert len(stored.getexif()) == 0 and b"PhoneModelX" not in data and b"Exif" not in data

    stranger = APIClient()
    stranger_user = make_user()
    stranger.force_authenticate(stranger_user)
    assert stranger.get(body["images"]["original"]).status_code == 404
    assert stranger.get(f"{URL}{body['id']}/").status_code == 404


def test_storage_failure_503_and_nothing_half_written(make_user, client_for, astronaut_jpeg, monkeypatch,
                                                      private_media):
    from facecommons.contributions import services

    def disk_full(key, data):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(services, "storage_save_bytes", disk_full)
    assert_error(upload(client_for(make_user()), astronaut_jpeg), 503, "storage_unavailable", "try again")
    assert Contribution.objects.count() == 0 and list_storage(private_media) == []
