"""Fixtures for the releases tests: a small approved dataset, researchers, built snapshots."""

from __future__ import annotations

import hashlib
import io
import random
import tarfile
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from facecommons.common.storage import storage_save_bytes
from tests.factories import make_contribution

GENDERS = ["woman", "man", "non_binary", "prefer_not_to_say"]
AGES = ["18_24", "25_34", "35_44", "45_54", "55_64", "65_plus"]
ETHNICITIES = [["black"], ["east_asian"], ["white"], ["south_asian", "white"], ["hispanic_latino"], ["mena"]]
TONES = [str(i) for i in range(1, 11)]


def small_jpeg(seed: int, size: int = 96) -> bytes:
    rng = random.Random(seed)
    img = Image.new("RGB", (size, size), (rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    for _ in range(20):
        img.putpixel((rng.randrange(size), rng.randrange(size)), (rng.randrange(256), 0, rng.randrange(256)))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=85)
    return buf.getvalue()


def add_face(contribution: Any, seed: int) -> None:
    """A PhotoAnalysis with a face and the pipeline's two aligned crops, as the pipeline leaves them."""
    from facecommons.contributions.models import ContributionFile
    from facecommons.pipeline.models import PhotoAnalysis

    PhotoAnalysis.objects.create(
        contribution=contribution, enhanced=seed % 3 == 1, lowlight={"is_low_light": seed % 3 == 1},
        enhancer_id="zero-dce++" if seed % 3 == 1 else "", enhancer_version="1.0" if seed % 3 == 1 else "",
        detector_id="retinaface-mobilenet", detector_version="0.25",
        face={"box": [10.0, 12.0, 80.0, 90.0], "score": 0.99,
              "landmarks": [[30.0, 40.0], [60.0, 40.0], [45.0, 55.0], [33.0, 70.0], [58.0, 70.0]]},
        verdict_code="ok")
    for variant, size in (("crop", 112), ("crop224", 224)):
        data = small_jpeg(seed * 7 + size, size)
        sha = hashlib.sha256(data).hexdigest()
        key = f"derived/{sha[:2]}/{sha}.jpg"
        storage_save_bytes(key, data)
        ContributionFile.objects.create(contribution=contribution, variant=variant, key=key, sha256=sha,
                                        width=size, height=size, byte_size=len(data))


@pytest.fixture(autouse=True)
def empty_blob_store():
    """Each test starts with an empty snapshot store (the database rolls back; files do not)."""
    import shutil

    from django.conf import settings

    shutil.rmtree(Path(settings.MEDIA_ROOT) / "releases", ignore_errors=True)


@pytest.fixture
def make_dataset(make_user):
    """make_dataset(people=12, start=0) -> {user: [contributions]} of approved photos with varied
    categories, 1-4 photos per person, faces and crops on two thirds of them."""

    def _make(people: int = 12, start: int = 0) -> dict[Any, list[Any]]:
        out: dict[Any, list[Any]] = {}
        for p in range(start, start + people):
            user = make_user(email=f"person{p}@example.org")
            cats = {"age_range": AGES[p % len(AGES)], "gender": GENDERS[p % len(GENDERS)],
                    "ethnicity": ETHNICITIES[p % len(ETHNICITIES)], "skin_tone": TONES[(p * 3) % 10],
                    "accessories": ["glasses"] if p % 2 else ["none"], "lighting": "indoor" if p % 2 else "low_light"}
            out[user] = []
            for i in range(1 + p % 4):
                seed = p * 100 + i
                c = make_contribution(user, status="approved", categories=dict(cats), image=small_jpeg(seed))
                if seed % 3:
                    add_face(c, seed)
                out[user].append(c)
        return out

    return _make


@pytest.fixture
def release_admin(make_user):
    return make_user(role="admin", email="admin@example.org")


@pytest.fixture
def researcher(make_user, release_admin):
    """An approved researcher who accepted the current data-use agreement."""
    from facecommons.releases.services import agreement_current, application_decide, application_submit

    user = make_user(role="contributor", email="researcher@example.org", consent=False)
    app = application_submit(user=user, name="Ada Researcher", institution="University of Somewhere",
                              purpose="Measuring the demographic bias of face detectors.",
                              agreement_version=agreement_current().version)
    application_decide(application=app, actor=release_admin, approve=True)
    return user


@pytest.fixture
def build(release_admin):
    """build(**kw) -> a published snapshot, built synchronously by the task's function."""
    from facecommons.releases.build import snapshot_build
    from facecommons.releases.services import snapshot_request

    def _build(**kw: Any):
        snap = snapshot_request(actor=release_admin, enqueue=False, **kw)
        result = snapshot_build(snapshot_id=snap.pk)
        assert result is not None and result.status == "published", result
        return result

    return _build


def archive_bytes(snapshot: Any) -> bytes:
    """The whole archive as the download streams it (from the stored files)."""
    from facecommons.releases import contents
    from facecommons.releases.archive import tarstream
    from facecommons.releases.archive.store import BlobStore

    store = BlobStore()
    return b"".join(tarstream.stream(contents.served_entries(snapshot), lambda e: store.open(e.sha256),
                                     mtime=int(snapshot.cutoff_at.timestamp())))


def extract(snapshot: Any, dest: Path) -> Path:
    """Extract the streamed archive; returns the snapshot's root folder."""
    with tarfile.open(fileobj=io.BytesIO(archive_bytes(snapshot)), mode="r|") as tar:
        tar.extractall(dest, filter="data")
    return dest / "facecommons"


@pytest.fixture
def personal_token(researcher):
    from facecommons.releases.services import token_create

    _, key = token_create(user=researcher, name="laptop")
    return key


@pytest.fixture
def rows_read(monkeypatch) -> list[int]:
    """The sizes of the chunks of photo rows the builds read (``selection.iter_rows``)."""
    from facecommons.releases.archive import selection

    read: list[int] = []
    iter_rows = selection.iter_rows

    def counting(qs: Any) -> Any:
        for chunk in iter_rows(qs):
            read.append(len(chunk))
            yield chunk

    monkeypatch.setattr(selection, "iter_rows", counting)
    return read
