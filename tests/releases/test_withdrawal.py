"""Withdrawals after publication: marked, withdrawn.csv, researchers told, next snapshot without them."""

from __future__ import annotations

import csv
import io

import pytest
from rest_framework.test import APIClient

from tests.releases.conftest import extract

pytestmark = pytest.mark.django_db


def _bearer(key: str) -> APIClient:
    c = APIClient()
    c.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return c


def test_withdrawal_propagates(make_dataset, build, researcher, personal_token, mailoutbox, client, tmp_path,
                               django_capture_on_commit_callbacks):
    from facecommons.accounts.services import account_withdraw
    from facecommons.common.storage import private_storage
    from facecommons.releases.models import SnapshotEntry, Subject
    from facecommons.releases.withdrawals import withdrawn_key

    people = make_dataset(6)
    s1 = build()
    c = _bearer(personal_token)
    assert c.get(f"/api/v1/snapshots/{s1.version}/download/", HTTP_RANGE="bytes=0-1023").status_code == 206
    leaver = next(u for u, cs in people.items() if len(cs) >= 2)
    subject_id = Subject.objects.get(user=leaver).subject_id
    files = set()
    for e in SnapshotEntry.objects.filter(snapshot=s1, subject_id=subject_id):
        files.add(e.file_name)
        files.update(e.extra_files)
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        account_withdraw(user=leaver)

    s1.refresh_from_db()
    assert s1.withdrawals_count == len(people[leaver])
    resp = c.get(f"/api/v1/snapshots/{s1.version}/withdrawn/")
    assert resp.status_code == 200 and resp["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(resp.content.decode())))
    assert {r["subject_id"] for r in rows} == {subject_id}
    assert {r["file_name"] for r in rows} == files
    # The same list sits beside the (unchanged) archive.
    assert private_storage().open(withdrawn_key(s1)).read().decode() == resp.content.decode()
    # The researcher who downloaded it is told by e-mail and on their page.
    assert [m.to for m in mailoutbox] == [[researcher.email]]
    assert s1.version in mailoutbox[0].subject and "withdrawn" in mailoutbox[0].body
    client.force_login(researcher)
    page = client.get("/research/").content.decode()
    assert 'id="withdrawal-notices"' in page and s1.version in page
    # The manifest never changes; the withdrawn files are gone from the store and from what is
    # served (the archive leaves them out, the file endpoint answers 410).
    from facecommons.releases import contents
    from facecommons.releases.archive.store import BlobStore, blob_key

    manifest_before = s1.manifest_sha256
    s1.refresh_from_db()
    assert s1.manifest_sha256 == manifest_before
    listed = {e.path for e in contents.manifest_entries(s1)}
    assert files <= listed
    served = {e.path for e in contents.served_entries(s1)}
    assert not files & served and served == listed - files
    for e in contents.manifest_entries(s1):
        if e.path in files:
            assert not private_storage().exists(blob_key(e.sha256))
        else:
            with BlobStore().open(e.sha256) as fh:
                assert len(fh.read()) == e.size
    gone = sorted(files)[0]
    assert c.get(f"/api/v1/snapshots/{s1.version}/files/{gone}").status_code == 410
    root = extract(s1, tmp_path / "s1")
    assert not any((root / f).exists() for f in files)
    # The next snapshot leaves the person out and its changelog says so.
    s2 = build()
    assert not SnapshotEntry.objects.filter(snapshot=s2, subject_id=subject_id).exists()
    assert s2.counts["removed_subjects"] == 1
    assert s2.counts["removed_photos"] == len(people[leaver])
    changelog = (extract(s2, tmp_path / "s2") / "CHANGELOG.md").read_text()
    assert subject_id in changelog and "## Removed people" in changelog
    for name in (f for f in files if not f.startswith("crops/")):
        assert name in changelog


def test_single_photo_deletion_after_publication(make_dataset, build, researcher, personal_token,
                                                 django_capture_on_commit_callbacks, mailoutbox):
    from facecommons.contributions.services import contribution_delete
    from facecommons.releases.models import Withdrawal

    people = make_dataset(4)
    s1 = build()
    _bearer(personal_token).get(f"/api/v1/snapshots/{s1.version}/download/", HTTP_RANGE="bytes=0-9")
    owner, photos = next((u, cs) for u, cs in people.items() if len(cs) >= 2)
    cid = photos[0].pk
    with django_capture_on_commit_callbacks(execute=True):
        contribution_delete(contribution=photos[0], actor=owner)
    w = Withdrawal.objects.get(snapshot=s1)
    assert w.reason == "removed" and w.file_names[0].endswith(f"{photos[0].sha256}.jpg")
    assert len(mailoutbox) == 1
    # Signals arriving twice for the same photo do not duplicate anything.
    from facecommons.releases.withdrawals import withdrawal_record

    assert withdrawal_record(contribution_ids=[cid], reason="removed") == []
    assert Withdrawal.objects.filter(snapshot=s1).count() == 1


def test_purged_rebuild(make_dataset, build, django_capture_on_commit_callbacks, release_admin, client_for):
    from facecommons.accounts.services import account_withdraw

    people = make_dataset(4)
    s1 = build()
    leaver = next(iter(people))
    with django_capture_on_commit_callbacks(execute=True):
        account_withdraw(user=leaver)
    s2 = build(purge_of=s1)
    assert s2.purge_of == s1
    assert s2.counts["subjects"] == 3
    body = client_for(release_admin).get(f"/api/v1/snapshots/{s2.version}/").json()
    assert body["purge_of"] == s1.version


def test_withdrawn_list_is_for_researchers_only(make_dataset, build, make_user, client_for):
    make_dataset(2)
    s1 = build()
    assert client_for(make_user(email="nobody@example.org")).get(
        f"/api/v1/snapshots/{s1.version}/withdrawn/").status_code == 403


def test_researchers_are_told_in_the_language_they_read_the_agreement_in(make_dataset, build, researcher,
                                                                         personal_token, mailoutbox,
                                                                         django_capture_on_commit_callbacks):
    from datetime import timedelta

    from django.utils import timezone

    from facecommons.accounts.services import account_withdraw
    from facecommons.releases.models import AgreementAcceptance, ResearcherNotice
    from facecommons.releases.withdrawals import removal_reminders_send

    AgreementAcceptance.objects.filter(user=researcher).update(language="es")
    people = make_dataset(4)
    s1 = build()
    _bearer(personal_token).get(f"/api/v1/snapshots/{s1.version}/download/", HTTP_RANGE="bytes=0-9")
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        account_withdraw(user=next(iter(people)))
    assert len(mailoutbox) == 1
    assert f"archivos retirados de la versión {s1.version}" in mailoutbox[0].subject
    assert "debes borrar los archivos" in mailoutbox[0].body
    assert f"/api/v1/snapshots/{s1.version}/removals/" in mailoutbox[0].body
    assert ResearcherNotice.objects.get(user=researcher, snapshot=s1).message == mailoutbox[0].body
    mailoutbox.clear()
    assert removal_reminders_send(now=timezone.now() + timedelta(days=8)) == 1
    assert "confirma que borraste los archivos retirados" in mailoutbox[0].subject
    assert "Bórralos" in mailoutbox[0].body
