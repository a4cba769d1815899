"""The S3 path against a real S3-protocol server (moto's, in server mode on 127.0.0.1, started
here): upload, derived files, private serving, deletion and withdrawal leave no object behind;
a snapshot builds from it (issue 14, part 8)."""

from __future__ import annotations

import copy
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.factories import DEFAULT_CATEGORIES

pytestmark = pytest.mark.django_db
KEYS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing", "region_name": "us-east-1"}


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


class Bucket:
    def __init__(self, endpoint: str) -> None:
        import boto3

        self.name = f"fc-test-{uuid.uuid4().hex[:12]}"
        self.client = boto3.client("s3", endpoint_url=endpoint, **KEYS)
        self.client.create_bucket(Bucket=self.name)

    def keys(self) -> list[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.name)
        return sorted(o["Key"] for page in pages for o in page.get("Contents", []))

    def read(self, key: str) -> bytes:
        return self.client.get_object(Bucket=self.name, Key=key)["Body"].read()


@pytest.fixture
def bucket(s3_endpoint, settings, monkeypatch) -> Bucket:
    """A fresh bucket as the private storage, configured as base.py does for S3_BUCKET."""
    b = Bucket(s3_endpoint)
    s3 = {"BACKEND": "storages.backends.s3.S3Storage",
          "OPTIONS": {"bucket_name": b.name, "endpoint_url": s3_endpoint, "access_key": KEYS["aws_access_key_id"],
                      "secret_key": KEYS["aws_secret_access_key"], "region_name": KEYS["region_name"],
                      "default_acl": "private", "querystring_auth": True, "querystring_expire": 300,
                      "file_overwrite": False}}
    storages = copy.deepcopy(settings.STORAGES)
    storages["default"] = storages["private"] = s3
    settings.STORAGES = storages
    return b


def _upload(client, jpeg: bytes) -> str:
    resp = client.post("/api/v1/contributions/", {
        "image": SimpleUploadedFile("me.jpg", jpeg, content_type="image/jpeg"),
        "categories": json.dumps(DEFAULT_CATEGORIES)}, format="multipart")
    assert resp.status_code == 201, resp.content
    return str(resp.json()["id"])


def _process(cid: str) -> Any:
    from facecommons.contributions.models import Contribution
    from facecommons.pipeline.services import pipeline_process

    assert pipeline_process(contribution_id=cid) == "done"
    return Contribution.objects.get(pk=cid)


def test_upload_derived_serving_and_deletion_leave_no_object(bucket, make_user, client_for, api_client,
                                                             astronaut_jpeg, django_capture_on_commit_callbacks):
    user = make_user()
    client = client_for(user)
    with django_capture_on_commit_callbacks(execute=False):  # no worker here: processed below
        cid = _upload(client, astronaut_jpeg)
    c = _process(cid)
    files = {f.variant: f.key for f in c.files.all()}
    assert {"original", "thumbnail", "crop"} <= set(files)
    assert bucket.keys() == sorted(files.values())  # every stored file is an object, nothing else
    # Private serving: the bytes come through the permission-checked view, never a bucket URL.
    resp = client.get(f"/api/v1/contributions/{cid}/image/?variant=thumbnail")
    assert resp.status_code == 200 and b"".join(resp.streaming_content) == bucket.read(files["thumbnail"])
    assert api_client.get(f"/api/v1/contributions/{cid}/image/").status_code == 404
    assert "X-Amz" not in str(resp.headers) and bucket.name not in str(resp.headers)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.delete(f"/api/v1/contributions/{cid}/").status_code == 204
    assert bucket.keys() == []


def test_withdrawal_leaves_no_object(bucket, make_user, client_for, unique_face_jpeg,
                                     django_capture_on_commit_callbacks):
    user, other = make_user(), make_user()
    with django_capture_on_commit_callbacks(execute=False):
        mine = [_upload(client_for(user), unique_face_jpeg(i)) for i in (1, 2)]
        theirs = _upload(client_for(other), unique_face_jpeg(3))
    for cid in (*mine, theirs):
        _process(cid)
    their_keys = sorted(f.key for f in _process_files(theirs))
    with django_capture_on_commit_callbacks(execute=True):
        resp = client_for(user).post("/api/v1/me/withdraw/", {"confirm": True}, format="json")
    assert resp.status_code == 200, resp.content
    assert bucket.keys() == their_keys  # all of mine gone, theirs untouched


def _process_files(cid: str) -> list[Any]:
    from facecommons.contributions.models import ContributionFile

    return list(ContributionFile.objects.filter(contribution_id=cid))


def test_snapshot_builds_from_s3(bucket, make_dataset, build, rows_read):
    from tests.releases.conftest import archive_bytes

    people = make_dataset(people=4)
    photos = sum(len(v) for v in people.values())
    assert bucket.keys(), "the dataset's files are objects in the bucket"
    snapshot = build()
    data = archive_bytes(snapshot)
    import io
    import tarfile

    with tarfile.open(fileobj=io.BytesIO(data), mode="r|") as tar:
        names = [m.name for m in tar]
    assert sum(1 for n in names if n.endswith(".jpg")) >= photos
    # The next version is built from this one: its metadata and manifest read back from the bucket.
    more = make_dataset(people=2, start=30)
    rows_read.clear()
    second = build()
    assert second.counts["added_photos"] == sum(len(v) for v in more.values()) == sum(rows_read)  # only the new ones read
    from facecommons.releases import contents

    listed = {e.path for e in contents.manifest_entries(second)}
    assert {e.path for e in contents.manifest_entries(snapshot) if e.path.endswith(".jpg")} < listed
    import pyarrow.parquet as pq

    from facecommons.releases.archive.store import BlobStore

    with BlobStore().open(second.documents["metadata.parquet"][0]) as fh:
        rows = pq.read_table(io.BytesIO(fh.read())).num_rows
    assert rows == second.counts["photos"] == photos + sum(len(v) for v in more.values())
