"""Workbench fixtures: private storage per test, a published snapshot whose archive is a tiny
generated one, fast training settings."""

from __future__ import annotations

import pytest

from ml.workbench import synthetic


@pytest.fixture(autouse=True)
def workbench_env(settings, tmp_path, monkeypatch, fresh_storage):
    settings.EVAL_MIN_GROUP_SIZE = 2
    settings.EVAL_BOOTSTRAP_REPLICATES = 20
    settings.STATS_MIN_COUNT = 2
    settings.WORKBENCH_DIR = str(tmp_path / "workbench")
    settings.WORKBENCH_TORCH_THREADS = 1
    monkeypatch.setenv("FACECOMMONS_WEIGHTS_DIR", str(tmp_path / "weights"))
    yield
    from ml.registry import list_models

    monkeypatch.undo()
    list_models("detector"), list_models("verifier")  # trained models registered in this test leave the registries


@pytest.fixture(scope="session")
def archive() -> bytes:
    return synthetic.archive_bytes(people=30, photos_per_person=2)


def store_synthetic(version: str = "2026.11.0"):
    """A published snapshot as the platform stores one: its files as blobs, listed by a manifest."""
    from django.utils import timezone

    from facecommons.releases.archive.manifest import Entry
    from facecommons.releases.archive.store import BlobStore
    from facecommons.releases.models import Snapshot

    store = BlobStore()
    entries = []
    for path, data in sorted(synthetic.generate(people=30, photos_per_person=2).items()):
        sha, size = store.put_bytes(data)
        entries.append(Entry(path=path, sha256=sha, size=size))
    manifest_sha, _ = store.put_bytes("".join(e.line() for e in entries).encode())
    return Snapshot.objects.create(version=version, status="published", cutoff_at=timezone.now(),
                                   published_at=timezone.now(), manifest_sha256=manifest_sha,
                                   manifest_files=len(entries))


@pytest.fixture
def snapshot(db):
    return store_synthetic()


@pytest.fixture
def tar_snapshot(db, archive):
    """A snapshot built before manifests: one stored tar."""
    from django.utils import timezone

    from facecommons.common.storage import storage_save_bytes
    from facecommons.releases.models import Snapshot

    key = storage_save_bytes("releases/2026.10.0/facecommons-2026.10.0.tar", archive)
    return Snapshot.objects.create(version="2026.10.0", status="published", cutoff_at=timezone.now(),
                                   published_at=timezone.now(), archive_key=key, archive_size=len(archive))
