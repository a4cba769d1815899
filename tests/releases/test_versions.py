"""The next version is built from the previous one (issue 16): only the photos that are new or
changed are read and written, and the result is the same as a build from nothing."""

from __future__ import annotations

import io
import json

import pytest

pytestmark = pytest.mark.django_db


def _entries(snap):
    from facecommons.releases.models import SnapshotEntry

    return {str(e["contribution_id"]): (e["subject_id"], e["split"], e["sha256"], e["file_name"], e["extra_files"],
                                        e["attributes"])
            for e in SnapshotEntry.objects.filter(snapshot=snap).values()}


def _read(sha):
    from facecommons.releases.archive.store import BlobStore

    with BlobStore().open(sha) as fh:
        return fh.read()


@pytest.fixture
def row_groups(monkeypatch):
    """Tiny parquet row groups and manifest runs, so that a small dataset crosses many of them."""
    from facecommons.releases.archive import writer

    monkeypatch.setattr(writer, "ROW_GROUP", 4)
    monkeypatch.setattr(writer, "RUN_LINES", 16)


def test_next_version_from_the_previous_equals_a_build_from_nothing(make_dataset, build, release_admin, make_user,
                                                                    row_groups, rows_read,
                                                                    django_capture_on_commit_callbacks):
    import pyarrow.parquet as pq
    from django.utils import timezone

    from facecommons.accounts.services import account_withdraw
    from facecommons.contributions.models import Contribution
    from facecommons.releases import build as build_module
    from facecommons.releases.models import Snapshot, SnapshotEntry
    from facecommons.releases.services import snapshot_request
    from tests.factories import make_contribution
    from tests.releases.conftest import add_face, small_jpeg

    people = make_dataset(10)
    s1 = build()
    assert s1.build_state["composition"]["photos"] == s1.counts["photos"]
    owners = list(people)
    # Between the versions: two new people, a new photo of someone already published (who keeps
    # their split), a withdrawal, and a moderator's correction of a published photo.
    make_dataset(2, start=50)
    extra = make_contribution(owners[1], status="approved", categories=dict(people[owners[1]][0].categories),
                              image=small_jpeg(9001))
    add_face(extra, 9001)
    with django_capture_on_commit_callbacks(execute=True):
        account_withdraw(user=owners[0])
    corrected = people[owners[2]][0]
    Contribution.objects.filter(pk=corrected.pk).update(corrected_categories={"lighting": "outdoor"},
                                                        updated_at=timezone.now())

    snap = snapshot_request(actor=release_admin, enqueue=False)
    # The same version built from nothing first (not published: the build from the previous
    # version then runs for real), its entries put aside.
    scratch = build_module._build(snap, from_nothing=True)
    from_nothing = _entries(snap)
    SnapshotEntry.objects.filter(snapshot=snap).delete()

    rows_read.clear()  # count the next build only
    read = rows_read
    s2 = build_module.snapshot_build(snapshot_id=snap.pk)
    assert s2 is not None and s2.status == "published"
    # It read the new and changed photos only: 2 new people's photos, the extra one, the corrected one.
    added = Contribution.objects.filter(owner__email__in=["person50@example.org", "person51@example.org"]).count()
    assert sum(read) == added + 2

    assert s2.manifest_sha256 == scratch["manifest_sha256"]
    assert s2.documents == scratch["documents"]
    assert s2.build_state == scratch["build_state"]
    assert {k: v for k, v in s2.counts.items() if not k.startswith("stored_")} == \
        {k: v for k, v in scratch["counts"].items() if not k.startswith("stored_")}
    assert _entries(s2) == from_nothing

    # What changed is there: the withdrawn person is gone, the new photos are in, the correction read.
    s1 = Snapshot.objects.get(pk=s1.pk)
    withdrawn = {str(c.pk) for c in people[owners[0]]}
    assert withdrawn <= set(_entries(s1)) and not withdrawn & set(_entries(s2))
    assert _entries(s2)[str(corrected.pk)][5]["lighting"] == ["outdoor"]
    assert _entries(s2)[str(extra.pk)][1] == _entries(s1)[str(people[owners[1]][0].pk)][1]  # same person, same split
    table = pq.read_table(io.BytesIO(_read(s2.documents["metadata.parquet"][0])))
    shas = table.column("sha256").to_pylist()
    assert shas == sorted(shas) and set(shas) == {e[2] for e in from_nothing.values()}
    assert pq.ParquetFile(io.BytesIO(_read(s2.documents["metadata.parquet"][0]))).metadata.num_row_groups > 3
    for split in ("train", "validation", "test"):
        doc = s2.documents.get(f"{split}/metadata.jsonl")
        if doc:
            names = [json.loads(line)["file_name"] for line in _read(doc[0]).decode().splitlines()]
            assert names == sorted(names)
    assert s2.counts["added_photos"] == added + 1 and s2.counts["removed_photos"] == len(withdrawn)
    assert s2.counts["photos"] == s1.counts["photos"] + added + 1 - len(withdrawn)


def test_a_changed_taxonomy_builds_from_nothing(make_dataset, build, monkeypatch, rows_read):
    from facecommons.releases.archive import selection

    make_dataset(4)
    s1 = build()
    make_dataset(1, start=20)
    rows_read.clear()  # count the next build only
    read = rows_read
    schema = selection.category_schema()
    monkeypatch.setattr(selection, "category_schema", lambda: schema[:-1])  # a category less
    s2 = build()
    assert s2.previous_id == s1.pk and s2.build_state["schema"] == [list(c) for c in schema[:-1]]
    assert sum(read) == s2.counts["photos"]  # every photo read again


def test_a_photo_whose_original_vanished_mid_build_leaves_no_file_behind(make_dataset, build):
    """A withdrawal racing the build deletes the original first: the photo is left out and its
    crops, which the build may already have stored, are deleted again (biometric data)."""
    from facecommons.common.storage import private_storage
    from facecommons.contributions.models import ContributionFile
    from facecommons.releases import contents
    from facecommons.releases.archive.store import blob_key
    from facecommons.releases.models import Blob

    people = make_dataset(4)
    photo = next(c for cs in people.values() for c in cs if c.files.filter(variant="crop").exists())
    files = {f.variant: f for f in ContributionFile.objects.filter(contribution=photo)}
    private_storage().delete(files["original"].key)
    snap = build()
    paths = {e.path for e in contents.manifest_entries(snap)}
    assert not any(f.sha256 in p for f in files.values() for p in paths)
    for variant in ("crop", "crop224"):
        assert not private_storage().exists(blob_key(files[variant].sha256))
        assert not Blob.objects.filter(sha256=files[variant].sha256).exists()
    assert snap.counts["photos"] == sum(len(v) for v in people.values()) - 1
