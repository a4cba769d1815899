"""Download: who may, HTTP Range resume, ETag, logging; tokens."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tests.releases.conftest import archive_bytes

pytestmark = pytest.mark.django_db


def _bearer(key: str) -> APIClient:
    c = APIClient()
    c.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return c


def _body(resp) -> bytes:
    return b"".join(resp.streaming_content) if resp.streaming else resp.content


@pytest.fixture
def snapshot(make_dataset, build):
    make_dataset(5)
    return build()


def test_full_and_resumed_download_give_identical_bytes(snapshot, personal_token, researcher):
    from facecommons.releases.models import Download

    url = f"/api/v1/snapshots/{snapshot.version}/download/"
    c = _bearer(personal_token)
    full = c.get(url)
    assert full.status_code == 200
    assert full["Accept-Ranges"] == "bytes"
    etag = f'"{snapshot.manifest_sha256}.0"'
    assert full["ETag"] == etag
    whole = _body(full)
    assert len(whole) == snapshot.archive_size
    # Streamed from the stored files, it is the archive the store describes, byte for byte.
    assert whole == archive_bytes(snapshot)
    # A download broken after `cut` bytes resumes from there (curl -C -).
    cut = snapshot.archive_size // 3
    first = c.get(url, HTTP_RANGE=f"bytes=0-{cut - 1}")
    assert first.status_code == 206
    assert first["Content-Range"] == f"bytes 0-{cut - 1}/{snapshot.archive_size}"
    rest = c.get(url, HTTP_RANGE=f"bytes={cut}-", HTTP_IF_RANGE=etag)
    assert rest.status_code == 206
    assert rest["Content-Range"] == f"bytes {cut}-{snapshot.archive_size - 1}/{snapshot.archive_size}"
    assert _body(first) + _body(rest) == whole
    # Every cut, also inside a header or a member's padding, joins up.
    for a in (1, 511, 512, 513, 1500, snapshot.archive_size - 1030):
        part = c.get(url, HTTP_RANGE=f"bytes={a}-{a + 700}")
        assert _body(part) == whole[a:a + 701], a
    # A client whose partial copy is of other bytes (If-Range mismatch) gets everything.
    assert c.get(url, HTTP_RANGE="bytes=10-", HTTP_IF_RANGE='"other"').status_code == 200
    suffix = c.get(url, HTTP_RANGE="bytes=-100")
    assert suffix.status_code == 206 and _body(suffix) == whole[-100:]
    bad = c.get(url, HTTP_RANGE=f"bytes={snapshot.archive_size}-")
    assert bad.status_code == 416
    assert bad["Content-Range"] == f"bytes */{snapshot.archive_size}"
    # Every request is logged: who, what, range, bytes, address.
    logs = list(Download.objects.filter(snapshot=snapshot).order_by("id"))
    assert [d.status_code for d in logs] == [200, 206, 206, *[206] * 6, 200, 206, 416]
    assert [d.bytes_sent for d in logs][:3] == [snapshot.archive_size, cut, snapshot.archive_size - cut]
    assert [d.bytes_sent for d in logs][-2:] == [100, 0]
    assert all(d.kind == "archive" for d in logs)
    assert all(d.user_id == researcher.pk and d.address == "127.0.0.1" for d in logs)
    assert logs[1].range_header == f"bytes=0-{cut - 1}"
    assert logs[0].token is not None and logs[0].token.name == "laptop"


def test_unapproved_researcher_gets_403(snapshot, make_user, client_for):
    from facecommons.releases.services import agreement_current, application_submit, token_create

    user = make_user(email="applicant@example.org")
    application_submit(user=user, name="A", institution="B", purpose="x" * 30,
                       agreement_version=agreement_current().version)
    resp = client_for(user).get(f"/api/v1/snapshots/{snapshot.version}/download/")
    assert resp.status_code == 403
    assert resp.json()["error"]["code"] == "not_allowed"
    _, key = token_create(user=user, name="t")
    assert _bearer(key).get(f"/api/v1/snapshots/{snapshot.version}/download/").status_code == 403


def test_new_agreement_must_be_accepted_before_downloading(snapshot, researcher, personal_token):
    from django.utils import timezone

    from facecommons.releases.models import DataUseAgreement
    from facecommons.releases.services import agreement_accept

    url = f"/api/v1/snapshots/{snapshot.version}/download/"
    assert _bearer(personal_token).get(url, HTTP_RANGE="bytes=0-9").status_code == 206
    DataUseAgreement.objects.create(version=2, text="New terms.", published_at=timezone.now())
    resp = _bearer(personal_token).get(url)
    assert resp.status_code == 403
    assert "data-use agreement" in resp.json()["error"]["message"]
    agreement_accept(user=researcher, version=2)
    assert _bearer(personal_token).get(url, HTTP_RANGE="bytes=0-9").status_code == 206


def test_revoked_token_gets_403_and_unknown_token_401(snapshot, researcher, personal_token):
    from facecommons.releases.models import ResearcherToken
    from facecommons.releases.services import token_revoke

    token = ResearcherToken.objects.get(user=researcher)
    assert token.key_hash != personal_token and personal_token not in token.key_hash  # only a hash is stored
    token_revoke(token=token, actor=researcher)
    resp = _bearer(personal_token).get(f"/api/v1/snapshots/{snapshot.version}/download/")
    assert resp.status_code == 403
    assert resp.json()["error"]["code"] == "token_revoked"
    assert _bearer("fcr_not-a-real-token").get("/api/v1/snapshots/").status_code == 401


def test_personal_and_drf_tokens_coexist(snapshot, researcher, personal_token, client_for):
    url = f"/api/v1/snapshots/{snapshot.version}/"
    c = APIClient()
    c.credentials(HTTP_AUTHORIZATION=f"Token {personal_token}")
    assert c.get(url).status_code == 200
    assert _bearer(personal_token).get(url).json()["manifest_sha256"] == snapshot.manifest_sha256
    # The account token of /api/v1/auth/token/ still works, here and on other apps' APIs,
    # including the download itself (its log row then names no personal token).
    drf = client_for(researcher)
    assert drf.get(url).status_code == 200
    resp = drf.get(f"{url}download/", HTTP_RANGE="bytes=0-99")
    assert resp.status_code == 206 and len(b"".join(resp.streaming_content)) == 100
    from facecommons.releases.models import Download

    assert Download.objects.filter(user=researcher, token__isnull=True, status_code=206).exists()
    from facecommons.releases.models import ResearcherToken

    assert ResearcherToken.objects.get(user=researcher).last_used_at is not None


def test_snapshot_list_and_detail(snapshot, researcher, personal_token, api_client):
    c = _bearer(personal_token)
    listing = c.get("/api/v1/snapshots/").json()
    assert [s["version"] for s in listing] == [snapshot.version]
    d = c.get(f"/api/v1/snapshots/{snapshot.version}/").json()
    assert d["archive_size"] == snapshot.archive_size and d["counts"]["photos"] == snapshot.counts["photos"]
    assert d["progress"]["percent"] == 100.0
    assert c.get("/api/v1/snapshots/1999.01.0/").status_code == 404
    assert api_client.get("/api/v1/snapshots/").status_code in (401, 403)


def test_x_accel_and_storage_redirect_for_single_files(snapshot, personal_token, settings):
    from facecommons.releases.archive.store import blob_key
    from facecommons.releases.models import Download

    sha, _ = snapshot.documents["metadata.parquet"]
    url = f"/api/v1/snapshots/{snapshot.version}/files/metadata.parquet"
    settings.SENDFILE_X_ACCEL = "/protected/"
    resp = _bearer(personal_token).get(url, HTTP_RANGE="bytes=0-99")
    assert resp["X-Accel-Redirect"] == f"/protected/{blob_key(sha)}"
    assert resp.content == b""
    log = Download.objects.latest("id")
    assert log.served_by == "x-accel" and log.bytes_requested == 100 and log.kind == "file"
    # The whole archive is assembled by Django, so it is streamed whatever the setting.
    whole = _bearer(personal_token).get(f"/api/v1/snapshots/{snapshot.version}/download/", HTTP_RANGE="bytes=0-99")
    assert whole.status_code == 206 and "X-Accel-Redirect" not in whole
