"""API: manifest, delta, single files with Range, metadata only, filtered subsets, removals."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import tarfile

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def _bearer(key: str) -> APIClient:
    c = APIClient()
    c.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return c


def _body(resp) -> bytes:
    return b"".join(resp.streaming_content) if resp.streaming else resp.content


def _members(data: bytes) -> dict[str, bytes]:
    out = {}
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
        for m in tar:
            out[m.name.removeprefix("facecommons/")] = tar.extractfile(m).read()
    return out


def test_manifest_delta_and_files(make_dataset, build, personal_token):
    from facecommons.releases.models import Download

    make_dataset(5)
    s1 = build()
    make_dataset(2, start=20)
    s2 = build()
    c = _bearer(personal_token)
    m = json.loads(_body(c.get("/api/v1/snapshots/latest/manifest/")))
    assert m["version"] == s2.version and m["manifest_sha256"] == s2.manifest_sha256
    assert len(m["files"]) == s2.manifest_files
    text = _body(c.get(f"/api/v1/snapshots/{s2.version}/manifest/?as=text"))
    assert hashlib.sha256(text).hexdigest() == s2.manifest_sha256
    d = json.loads(_body(c.get(f"/api/v1/snapshots/{s2.version}/delta/?from={s1.version}")))
    old = {f["path"]: f for f in json.loads(_body(c.get(f"/api/v1/snapshots/{s1.version}/manifest/")))["files"]}
    for ch in d["changes"]:
        if ch["op"] == "remove":
            old.pop(ch["path"])
        else:
            old[ch["path"]] = {k: ch[k] for k in ("path", "sha256", "size")}
    assert sorted(old.values(), key=lambda f: f["path"]) == m["files"]
    assert c.get(f"/api/v1/snapshots/{s2.version}/delta/").status_code == 400
    # The same delta as one tar: the added files and the list of paths to delete.
    tar = _members(_body(c.get(f"/api/v1/snapshots/{s2.version}/delta/?from={s1.version}&as=tar")))
    added = {ch["path"] for ch in d["changes"] if ch["op"] == "add"}
    assert set(tar) == added | {"DELETED.txt"}
    assert set(tar["DELETED.txt"].decode().split()) == {ch["path"] for ch in d["changes"] if ch["op"] == "remove"}
    for ch in d["changes"]:
        if ch["op"] == "add":
            assert hashlib.sha256(tar[ch["path"]]).hexdigest() == ch["sha256"]
    # Any listed file, whole or by range, with its SHA-256 as ETag.
    image = next(f for f in m["files"] if f["path"].startswith("train/"))
    url = f"/api/v1/snapshots/{s2.version}/files/{image['path']}"
    whole = _body(c.get(url))
    assert hashlib.sha256(whole).hexdigest() == image["sha256"] and len(whole) == image["size"]
    part = c.get(url, HTTP_RANGE="bytes=100-199", HTTP_IF_RANGE=f'"{image["sha256"]}"')
    assert part.status_code == 206 and _body(part) == whole[100:200]
    parquet = _body(c.get(f"/api/v1/snapshots/{s2.version}/files/metadata.parquet"))
    assert hashlib.sha256(parquet).hexdigest() == s2.documents["metadata.parquet"][0]
    assert c.get(f"/api/v1/snapshots/{s2.version}/files/train/{'0' * 64}.jpg").status_code == 404
    assert c.get(f"/api/v1/snapshots/{s2.version}/files/../../settings.py").status_code == 404
    kinds = set(Download.objects.values_list("kind", flat=True))
    assert kinds == {"manifest", "delta", "file"}


def test_metadata_only_and_filtered_subsets(make_dataset, build, personal_token):
    from facecommons.releases.models import Download, SnapshotEntry

    make_dataset(10)
    snap = build()
    c = _bearer(personal_token)
    meta = _members(_body(c.get(f"/api/v1/snapshots/{snap.version}/metadata/")))
    assert {"metadata.parquet", "croissant.json", "DATASHEET.md", "LICENSE", "CHANGELOG.md", "SHA256SUMS"} <= set(meta)
    assert not any(n.endswith(".jpg") for n in meta)
    # Only low-light photos.
    resp = c.get(f"/api/v1/snapshots/{snap.version}/download/?lighting=low_light")
    assert resp.status_code == 200
    got = _members(_body(resp))
    expected = {e.file_name for e in SnapshotEntry.objects.filter(snapshot=snap)
                if "low_light" in e.attributes["lighting"]}
    assert expected and {n for n in got if n.endswith(".jpg") and not n.startswith("crops/")} == expected
    assert int(resp["X-Subset-Photos"]) == len(expected)
    for name, data in got.items():
        if name.endswith(".jpg"):
            assert hashlib.sha256(data).hexdigest() == name.rsplit("/", 1)[1][:-4]
    rows = [json.loads(line) for n, d in got.items() if n.endswith("metadata.jsonl") for line in d.splitlines()]
    assert len(rows) == len(expected) and all(r["lighting"] == "low_light" for r in rows)
    # Split and a flag together (AND); values of one key (OR).
    resp = c.get(f"/api/v1/snapshots/{snap.version}/download/?split=train&has_face=true&gender=woman,man")
    got = _members(_body(resp))
    want = {e.file_name for e in SnapshotEntry.objects.filter(snapshot=snap, split="train")
            if e.attributes["has_face"] and set(e.attributes["gender"]) & {"woman", "man"}}
    assert {n for n in got if n.startswith("train/") and n.endswith(".jpg")} == want
    assert not any(n.startswith(("validation/", "test/")) for n in got)
    # A filter that does not exist is a clear 400, not an empty archive.
    bad = c.get(f"/api/v1/snapshots/{snap.version}/download/?colour=blue")
    assert bad.status_code == 400 and "colour" in bad.json()["error"]["message"]
    assert set(Download.objects.values_list("kind", flat=True)) >= {"metadata", "subset"}
    assert Download.objects.filter(kind="subset", detail="lighting=low_light").exists()


def test_signed_removal_manifest_and_acknowledgement(make_dataset, build, researcher, personal_token,
                                                     django_capture_on_commit_callbacks, mailoutbox):
    from facecommons.accounts.services import account_withdraw
    from facecommons.releases.models import RemovalAcknowledgement
    from facecommons.releases.signing import verify
    from facecommons.releases.withdrawals import removal_reminders_send

    people = make_dataset(5)
    snap = build()
    c = _bearer(personal_token)
    assert c.get(f"/api/v1/snapshots/{snap.version}/download/", HTTP_RANGE="bytes=0-9").status_code == 206
    with django_capture_on_commit_callbacks(execute=True):
        account_withdraw(user=next(iter(people)))
    signed = c.get(f"/api/v1/snapshots/{snap.version}/removals/").json()
    key = APIClient().get("/api/v1/snapshots/signing-key/").json()
    assert key["public_key"] == signed["public_key"] and key["algorithm"] == "Ed25519"
    assert verify(signed, key["public_key"])
    assert signed["manifest"]["files"] and all(f["path"] for f in signed["manifest"]["files"])
    # Any change to the list breaks the signature; another key does not verify it.
    forged = json.loads(json.dumps(signed))
    forged["manifest"]["files"] = forged["manifest"]["files"][1:]
    assert not verify(forged, key["public_key"])
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    other = base64.b64encode(Ed25519PrivateKey.generate().public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw)).decode()
    assert not verify(signed, other)
    # The downloader must acknowledge; reminders until they do, then none.
    ack = RemovalAcknowledgement.objects.get(user=researcher, snapshot=snap)
    assert ack.acknowledged_at is None
    from datetime import timedelta

    from django.utils import timezone

    mailoutbox.clear()
    later = timezone.now() + timedelta(days=8)
    assert removal_reminders_send(now=later) == 1 and len(mailoutbox) == 1
    assert removal_reminders_send(now=later) == 0  # not twice in a week
    resp = c.post(f"/api/v1/snapshots/{snap.version}/removals/ack/", {"sha256": signed["sha256"]}, format="json")
    assert resp.status_code == 200
    ack.refresh_from_db()
    assert ack.acknowledged_at and ack.acknowledged_digest == signed["sha256"]
    assert removal_reminders_send(now=later + timedelta(days=8)) == 0
