"""API: export my data (zip) and withdraw (everything deleted, account closed)."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from django.contrib.sessions.models import Session
from rest_framework.test import APIClient

from facecommons.accounts.models import ApiToken, ConsentAcceptance, User
from facecommons.accounts.services import account_export, account_withdraw
from facecommons.common.models import AuditEvent
from facecommons.common.storage import private_storage, storage_save_bytes
from facecommons.contributions.events import contributor_withdrawn
from facecommons.contributions.models import Contribution, ContributionFile
from facecommons.pipeline.models import PhotoAnalysis
from tests.contributions.conftest import list_storage, private_media  # noqa: F401 - autouse fixture
from tests.factories import jpeg_bytes, make_contribution

pytestmark = pytest.mark.django_db


def with_variants(owner, **kw) -> Contribution:
    c = make_contribution(owner, **kw)
    for i, variant in enumerate(["thumbnail", "crop"]):
        data = jpeg_bytes(seed=1000 + i + hash(str(c.pk)) % 1000)
        key = f"derived/{c.pk}/{variant}.jpg"
        storage_save_bytes(key, data)
        ContributionFile.objects.create(contribution=c, variant=variant, key=key, sha256="0" * 64)
    return c


def test_export_zip_contents(make_user, client_for):
    user, other = make_user(), make_user()
    a = with_variants(user, status="approved", corrected_categories={"lighting": "low_light"})
    b = make_contribution(user, status="rejected", rejection_code="no_face", rejection_message="No face found.")
    PhotoAnalysis.objects.create(contribution=a, verdict_code="ok", sharpness=123.4,
                                 detections_original=[{"box": [1, 2, 3, 4], "score": 0.9, "landmarks": []}])
    make_contribution(other)
    resp = client_for(user).get("/api/v1/me/export/")
    assert resp.status_code == 200
    assert resp["Content-Type"] == "application/zip"
    assert "attachment" in resp["Content-Disposition"]
    assert resp["Cache-Control"] == "private, no-store"
    zf = zipfile.ZipFile(io.BytesIO(b"".join(resp.streaming_content)))
    names = set(zf.namelist())
    expected_photos = {f"photos/{a.pk}/original.jpg", f"photos/{a.pk}/thumbnail.jpg", f"photos/{a.pk}/crop.jpg",
                       f"photos/{b.pk}/original.jpg"}
    assert names == expected_photos | {"data.json", "README.txt"}
    for f in ContributionFile.objects.filter(contribution__owner=user):
        with private_storage().open(f.key, "rb") as fh:
            assert zf.read(f"photos/{f.contribution_id}/{f.variant}.jpg") == fh.read()
    data = json.loads(zf.read("data.json"))
    assert data["account"]["email"] == user.email and data["account"]["pseudonym"] == user.pseudonym
    assert data["consents"][0]["version"] == 1 and data["consents"][0]["adult_confirmed"] is True
    by_id = {c["id"]: c for c in data["contributions"]}
    assert set(by_id) == {str(a.pk), str(b.pk)}
    assert by_id[str(a.pk)]["declared_categories"] == a.categories
    assert by_id[str(a.pk)]["corrected_categories"] == {"lighting": "low_light"}
    assert by_id[str(a.pk)]["analysis"]["verdict_code"] == "ok"
    assert by_id[str(a.pk)]["analysis"]["sharpness"] == 123.4
    assert by_id[str(b.pk)]["status"] == "rejected"
    assert by_id[str(b.pk)]["rejection_reason"] == {"code": "no_face", "message": "No face found."}
    assert "analysis" not in by_id[str(b.pk)]
    assert AuditEvent.objects.filter(action="data_exported", actor=user).count() == 1


def test_export_requires_login(api_client):
    assert api_client.get("/api/v1/me/export/").status_code in (401, 403)


def test_export_large_set_spools_to_disk(make_user, unique_face_jpeg):
    user = make_user()
    for i in range(3):
        make_contribution(user, image=unique_face_jpeg(i))
    archive = account_export(user=user)
    assert zipfile.ZipFile(archive).testzip() is None
    assert hasattr(archive, "rollover")  # a SpooledTemporaryFile, not a BytesIO


@pytest.mark.parametrize("payload", [{}, {"confirm": False}, {"confirm": "nope"}])
def test_withdraw_requires_confirmation(make_user, client_for, payload):
    user = make_user()
    make_contribution(user)
    resp = client_for(user).post("/api/v1/me/withdraw/", payload, format="json")
    assert resp.status_code == 400 and resp.json()["error"]["fields"]["confirm"]
    assert Contribution.objects.filter(owner=user).count() == 1
    user.refresh_from_db()
    assert user.is_active and user.withdrawn_at is None


def test_withdraw_deletes_everything(make_user, client_for, private_media,  # noqa: F811
                                     django_capture_on_commit_callbacks):
    user, other = make_user(), make_user()
    mine = [with_variants(user, status="approved"), make_contribution(user, status="received")]
    theirs = make_contribution(other)
    their_files = [f.key for f in theirs.files.all()]
    assert len(list_storage(private_media)) == 5
    seen = {}

    def receiver(*, user, contribution_ids, withdrawn_at):
        # Sent before deletion: the rows still exist for releases/rewards to record.
        seen["ids"] = sorted(map(str, contribution_ids))
        seen["existing"] = Contribution.objects.filter(pk__in=contribution_ids).count()
        seen["at"] = withdrawn_at

    contributor_withdrawn.connect(receiver)
    web = APIClient()
    web.force_login(user)
    assert Session.objects.count() == 1
    client = client_for(user)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            resp = client.post("/api/v1/me/withdraw/", {"confirm": True}, format="json")
    finally:
        contributor_withdrawn.disconnect(receiver)
    assert resp.status_code == 200, resp.content
    assert seen["ids"] == sorted(str(c.pk) for c in mine) and seen["existing"] == 2
    assert list_storage(private_media) == their_files  # every file of mine gone, theirs untouched
    assert not Contribution.objects.filter(owner=user).exists()
    user = User.objects.get(pk=user.pk)
    assert not user.is_active and user.withdrawn_at == seen["at"]
    assert user.email.startswith("withdrawn-") and user.email.endswith("@invalid")
    assert not user.has_usable_password()
    assert user.last_declared_categories == {}
    assert not ConsentAcceptance.objects.filter(user=user, withdrawn_at__isnull=True).exists()
    assert not ApiToken.objects.filter(user=user).exists()
    assert Session.objects.count() == 0
    assert AuditEvent.objects.filter(action="account_withdrawn", object_id=str(user.pk)).exists()
    assert AuditEvent.objects.filter(action="deleted_on_withdrawal").count() == 2
    # The old token no longer works; the web session is gone.
    assert client.get("/api/v1/contributions/").status_code == 401
    assert web.get("/api/v1/contributions/").status_code in (401, 403)


def test_withdraw_service_rolls_back_on_failure(make_user, private_media):  # noqa: F811
    """If a listener fails, nothing is deleted: not the rows, not the files."""
    user = make_user()
    make_contribution(user)

    def broken(**kw):
        raise RuntimeError("ledger unavailable")

    contributor_withdrawn.connect(broken)
    try:
        with pytest.raises(RuntimeError):
            account_withdraw(user=user)
    finally:
        contributor_withdrawn.disconnect(broken)
    assert Contribution.objects.filter(owner=user).count() == 1
    assert len(list_storage(private_media)) == 1
    user.refresh_from_db()
    assert user.is_active and user.withdrawn_at is None
