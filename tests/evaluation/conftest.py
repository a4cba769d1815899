"""Evaluation fixtures: fake models registered for one test, contributions with a validated
face, and a fresh private storage per test."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest
from PIL import Image, ImageDraw

from ml.detectors import Detection


@pytest.fixture(autouse=True)
def private_media(settings, fresh_storage):
    root = fresh_storage
    settings.EVAL_MIN_GROUP_SIZE = 10
    settings.EVAL_BOOTSTRAP_REPLICATES = 100
    settings.STATS_MIN_COUNT = 5
    settings.EVAL_LOWLIGHT_LEVELS = ""  # the stress test has its own tests (test_lowlight.py); off keeps call counts
    return root


@pytest.fixture(autouse=True)
def _fresh_models() -> Iterator[None]:
    """Registered test models and loaded instances do not leak into other tests."""
    from ml import registry

    before = dict(registry._REGISTRY)
    registry.forget()
    yield
    registry.forget()
    registry._REGISTRY.clear()
    registry._REGISTRY.update(before)


def register_fake(name: str, kind: str, factory: Any, **info: Any) -> None:
    """Put a fake model into ml.registry (``_fresh_models`` takes it out after the test)."""
    from ml.registry import ModelInfo, register_model

    register_model(ModelInfo(name, kind, factory, licence="test", version_of="1",  # type: ignore[arg-type]
                             weights_source_of="none", **info))


# The astronaut's face (scikit-image, public domain) as RetinaFace-MobileNet finds it in the
# 512x512 image; the fake detectors return it so the tests need no model.
FACE = {"box": [177.75, 56.89, 273.05, 177.29], "score": 0.9995,
        "landmarks": [[204.75, 100.99], [247.28, 103.39], [223.64, 129.45], [202.59, 138.21], [244.45, 140.42]]}
MARK = (255, 0, 0)


def has_mark(rgb: np.ndarray) -> bool:
    """The drop marker: a red square in the bottom-right corner (robust to JPEG)."""
    patch = rgb[-10:, -10:].reshape(-1, 3).mean(axis=0)
    return patch[0] > 180 and patch[1] < 80 and patch[2] < 80


class CountingDetector:
    """A fast fake detector: the astronaut's face, in the coordinates of the image it is given.

    Counts its calls (class attribute) so tests can see what the cache saved."""

    model_id = "test-count"
    version = "1"
    license = "test"
    weights_source = "none"
    calls = 0

    def detect(self, image: np.ndarray) -> list[Detection]:
        type(self).calls += 1
        s = image.shape[1] / 512
        return [Detection(box=tuple(v * s for v in FACE["box"]), score=0.99,  # type: ignore[arg-type]
                          landmarks=tuple((x * s, y * s) for x, y in FACE["landmarks"]))]


class DroppingDetector(CountingDetector):
    """Wraps a detector and drops every face in marked photos: the test marks a known share
    of one group's photos, so the true gap is known."""

    model_id = "test-drop"

    def detect(self, image: np.ndarray) -> list[Detection]:
        faces = super().detect(image)
        return [] if has_mark(image) else faces


class ColourVerifier:
    """Embedding = mean colour of the top-left patch, where the test paints the subject's colour."""

    model_id = "test-verifier"
    version = "1"
    license = "test"
    weights_source = "none"
    metric = "euclidean"
    threshold = 0.1
    calls = 0

    def embed(self, image: np.ndarray, face: Any = None) -> np.ndarray:
        type(self).calls += 1
        return (image[2:18, 2:18].reshape(-1, 3).mean(axis=0) / 255.0).astype(np.float32)

    def distance(self, a: np.ndarray, b: np.ndarray) -> float:
        return float(np.linalg.norm(a - b))


@pytest.fixture
def fake_models() -> dict[str, Any]:

    CountingDetector.calls = DroppingDetector.calls = ColourVerifier.calls = 0
    register_fake("test-count", "detector", lambda **kw: CountingDetector())
    register_fake("test-drop", "detector", lambda **kw: DroppingDetector())
    register_fake("test-verifier", "verifier", lambda **kw: ColourVerifier())
    return {"count": CountingDetector, "drop": DroppingDetector, "verifier": ColourVerifier}


def face_jpeg(astronaut: Image.Image, i: int, *, mark: bool = False, colour: tuple[int, int, int] | None = None,
              size: int = 512) -> bytes:
    img = astronaut.copy()
    d = ImageDraw.Draw(img)
    d.rectangle([40, 0, 60 + i % 300, 3], fill=(i * 37 % 256, i * 91 % 256, i * 13 % 256))  # unique bytes
    if colour is not None:
        d.rectangle([0, 0, 20, 20], fill=colour)
    if mark:
        d.rectangle([img.width - 24, img.height - 24, img.width, img.height], fill=MARK)
    if size != img.width:
        img = img.resize((size, size))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=92)
    return buf.getvalue()


@pytest.fixture
def approved_photo(astronaut_image, make_user) -> Callable[..., Any]:
    """approved_photo(i, owner=None, categories=..., mark=False, colour=None) -> an approved
    contribution with the validated face stored in its PhotoAnalysis."""
    from facecommons.pipeline.models import PhotoAnalysis
    from tests.factories import make_contribution

    def _make(i: int, *, owner: Any = None, categories: dict | None = None, mark: bool = False,
              colour: tuple[int, int, int] | None = None) -> Any:
        owner = owner or make_user()
        c = make_contribution(owner, status="approved", categories=categories,
                              image=face_jpeg(astronaut_image, i, mark=mark, colour=colour))
        PhotoAnalysis.objects.create(contribution=c, face=dict(FACE, count=1, source="original"), verdict_code="ok",
                                     detector_id="retinaface-mobilenet", detector_version="test")
        return c

    return _make
