"""Versions as manifests over content-addressed files: immutability, dedup, deltas (state: test_state)."""

from __future__ import annotations

import hashlib
import os

import pytest

from tests.releases.conftest import extract

pytestmark = pytest.mark.django_db


def _manifest(snap):
    from facecommons.releases import contents

    return list(contents.manifest_entries(snap))


def test_manifest_lists_every_file_and_is_its_own_hash(make_dataset, build, tmp_path):
    from facecommons.releases.archive.store import BlobStore

    make_dataset(6)
    snap = build()
    entries = _manifest(snap)
    assert [e.path for e in entries] == sorted(e.path for e in entries)
    assert len(entries) == snap.manifest_files == snap.counts["files"]
    with BlobStore().open(snap.manifest_sha256) as fh:
        assert hashlib.sha256(fh.read()).hexdigest() == snap.manifest_sha256
    root = extract(snap, tmp_path)
    on_disk = {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}
    assert on_disk == {e.path for e in entries}
    for e in entries:
        data = (root / e.path).read_bytes()
        assert len(data) == e.size and hashlib.sha256(data).hexdigest() == e.sha256, e.path


def test_each_file_is_stored_once_and_a_new_version_stores_only_what_is_new(make_dataset, build, settings):
    from facecommons.common.storage import private_storage
    from facecommons.releases.archive.store import blob_key
    from facecommons.releases.models import Blob

    make_dataset(6)
    s1 = build()
    first = {e.path: e for e in _manifest(s1)}
    stat1 = {e.sha256: os.stat(private_storage().path(blob_key(e.sha256))) for e in first.values()}
    make_dataset(2, start=40)
    s2 = build()
    second = {e.path: e for e in _manifest(s2)}
    new_images = {p for p in second if p.endswith(".jpg")} - set(first)
    assert new_images
    assert s2.counts["stored_bytes"] < s1.counts["stored_bytes"]
    # Exactly the new photos' files (and the documents that changed) were stored.
    new_docs = {e.sha256 for p, e in second.items() if not p.endswith(".jpg")} - {e.sha256 for e in first.values()}
    assert s2.counts["stored_files"] == len(new_images) + len(new_docs)
    # One blob per distinct content, shared by both versions, untouched by the second build.
    shas = {e.sha256 for e in [*first.values(), *second.values()]}
    assert Blob.objects.filter(sha256__in=shas).count() == len(shas)
    for sha, before in stat1.items():
        after = os.stat(private_storage().path(blob_key(sha)))
        assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    # Every photo of version 1 is in version 2 as the same blob.
    assert all(second[p] == e for p, e in first.items() if p.endswith(".jpg"))
    # Version 1's manifest is what it was.
    s1.refresh_from_db()
    assert {e.path: e for e in _manifest(s1)} == first


def test_copy_mode_verifies_what_it_stores(make_dataset, build, settings):
    """Without hard links (another file system, object storage) the bytes are copied and checked."""
    from facecommons.releases.archive.store import BlobMismatch, BlobStore

    settings.RELEASES_BLOB_LINK = False
    make_dataset(3)
    snap = build()
    assert snap.counts["stored_bytes"] > 0
    from facecommons.common.storage import storage_save_bytes

    storage_save_bytes("originals/zz/not-what-it-says.jpg", b"some bytes")
    with pytest.raises(BlobMismatch):
        BlobStore().put_stored(source_key="originals/zz/not-what-it-says.jpg", sha256="0" * 64, size=10)


def test_applying_every_delta_from_version_1_gives_version_n(make_dataset, build, django_capture_on_commit_callbacks):
    from facecommons.accounts.services import account_withdraw
    from facecommons.releases import contents
    from facecommons.releases.archive import manifest as mf

    people = make_dataset(6)
    versions = [build()]
    make_dataset(2, start=30)
    versions.append(build())
    with django_capture_on_commit_callbacks(execute=True):
        account_withdraw(user=next(iter(people)))
    versions.append(build())
    make_dataset(1, start=60)
    versions.append(build())
    state = _manifest(versions[0])
    for prev, nxt in zip(versions, versions[1:], strict=False):
        changes = list(contents.delta(nxt, prev))
        assert any(c.op == "add" for c in changes)
        state = mf.apply(state, changes)
        assert state == _manifest(nxt)
    # A delta that skips versions is the same as the steps.
    assert mf.apply(_manifest(versions[0]), contents.delta(versions[-1], versions[0])) == _manifest(versions[-1])
    removed = [c for c in contents.delta(versions[2], versions[1]) if c.op == "remove"]
    assert any(c.entry.path.endswith(".jpg") for c in removed)


def test_manifest_sorting_spills_to_disk_with_the_same_result(monkeypatch, tmp_path):
    import random

    from facecommons.releases.archive import writer

    rng = random.Random(3)
    files = [(f"train/{rng.getrandbits(64):016x}.jpg", f"{i:064x}", i) for i in range(1000)]
    files += [("crops/112/" + p[6:], s, n) for p, s, n in files[:50]] + [("metadata.parquet", "f" * 64, 9)]
    monkeypatch.setattr(writer, "RUN_LINES", 64)
    listing = writer.FileList(str(tmp_path))
    for path, sha, size in files:
        listing.add(path, sha, size)
    try:
        lines = list(listing.sorted())
        assert len(listing._runs) > 10  # it did spill
    finally:
        listing.close()
    assert lines == [f"{s} {n} {p}\n" for p, s, n in sorted(files)]
