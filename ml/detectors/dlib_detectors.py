"""dlib's face detectors: HOG + linear SVM (``dlib-hog``) and the MMOD CNN (``dlib-cnn``).

Weights ship in ``face-recognition-models`` (``mmod_human_face_detector.dat`` and
``shape_predictor_5_face_landmarks.dat``, Davis King, CC0). Landmarks come from dlib's 5-point
shape predictor, which marks the two corners of each eye and the base of the nose: the eye
centres are the mean of their corners, the nose point is the nose base, and the two mouth
corners (which that model does not mark) are placed by the similarity transform that maps the
three measured points onto the ArcFace template. They are therefore estimates, good enough for
alignment but not measurements.

dlib scores are SVM/MMOD margins (0 is the model's own threshold), not probabilities. To fit
``Detection.score`` in [0, 1] they are mapped with ``0.9 + 0.1 * tanh(margin)`` for margins
≥ 0, so "accepted by dlib" reads as ≥ 0.9, the same bar the pipeline uses for RetinaFace.
"""

from __future__ import annotations

import math
import threading
from typing import Any

import numpy as np

from ml.detectors.base import Detection, DetectorUnavailable
from ml.imageio import resize_long_side
from ml.weights import dlib_model_path

_lock = threading.Lock()
_models: dict[str, Any] = {}


def _dlib() -> Any:
    try:
        import dlib
    except ImportError as exc:  # pragma: no cover - dlib-bin is a requirement
        raise DetectorUnavailable("dlib is not installed (pip install dlib-bin)") from exc
    return dlib


def model_version() -> str:
    return f"dlib-{_dlib().__version__}"


def _model(name: str) -> Any:
    with _lock:
        if name not in _models:
            dlib = _dlib()
            try:
                if name == "hog":
                    _models[name] = dlib.get_frontal_face_detector()
                elif name == "cnn":
                    _models[name] = dlib.cnn_face_detection_model_v1(str(dlib_model_path("mmod_human_face_detector.dat")))
                elif name == "sp5":
                    _models[name] = dlib.shape_predictor(str(dlib_model_path("shape_predictor_5_face_landmarks.dat")))
            except FileNotFoundError as exc:
                raise DetectorUnavailable(f"{exc}. Install it with: pip install face-recognition-models") from exc
        return _models[name]


def _margin_to_score(margin: float) -> float:
    return 0.9 + 0.1 * math.tanh(max(0.0, float(margin)))


def five_points(shape: Any) -> tuple[tuple[float, float], ...]:
    """Left eye, right eye, nose, mouth left, mouth right (image left/right) from dlib's 5 points."""
    from ml.align import ARCFACE_112, umeyama

    p = np.array([[shape.part(i).x, shape.part(i).y] for i in range(5)], dtype=np.float64)
    eye_a, eye_b, nose = p[0:2].mean(axis=0), p[2:4].mean(axis=0), p[4]
    left, right = (eye_a, eye_b) if eye_a[0] <= eye_b[0] else (eye_b, eye_a)
    measured = np.stack([left, right, nose])
    m = umeyama(ARCFACE_112[:3], measured)  # template -> image
    mouth = ARCFACE_112[3:5] @ m[:, :2].T + m[:, 2]
    return tuple((float(x), float(y)) for x, y in np.vstack([measured, mouth]))


class _DlibDetector:
    kind = ""  # licence, weights and version: ml.registry

    def __init__(self, *, max_side: int = 1024, upsample: int = 0, landmarks: bool = True) -> None:
        self._detector = _model(self.kind)
        self._sp = _model("sp5") if landmarks else None
        self.max_side = max_side
        self.upsample = upsample
        self.version = model_version()

    def _run(self, img: np.ndarray) -> list[tuple[Any, float]]:
        raise NotImplementedError

    def detect(self, image: np.ndarray) -> list[Detection]:
        small, scale = resize_long_side(np.ascontiguousarray(image, dtype=np.uint8), self.max_side)
        out = []
        for rect, margin in self._run(small):
            lm: tuple[tuple[float, float], ...] = ()
            if self._sp is not None:
                lm = five_points(self._sp(small, rect))
            det = Detection(box=(float(rect.left()), float(rect.top()), float(rect.right() + 1), float(rect.bottom() + 1)),
                            score=_margin_to_score(margin), landmarks=lm)
            out.append(det.scaled(1.0 / scale) if scale != 1.0 else det)
        return sorted(out, key=lambda d: d.score, reverse=True)


class DlibHog(_DlibDetector):
    model_id = "dlib-hog"
    kind = "hog"

    def _run(self, img: np.ndarray) -> list[tuple[Any, float]]:
        rects, scores, _ = self._detector.run(img, self.upsample, 0.0)
        return list(zip(rects, scores, strict=True))


class DlibCnn(_DlibDetector):
    model_id = "dlib-cnn"
    kind = "cnn"

    def __init__(self, *, max_side: int = 800, **kwargs: Any) -> None:
        # The MMOD CNN costs ~10x HOG per pixel on CPU; 800 px keeps faces >= ~40 px findable.
        super().__init__(max_side=max_side, **kwargs)

    def _run(self, img: np.ndarray) -> list[tuple[Any, float]]:
        return [(d.rect, d.confidence) for d in self._detector(img, self.upsample) if d.confidence >= 0]

