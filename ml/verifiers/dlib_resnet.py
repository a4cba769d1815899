"""dlib's ResNet face recogniser: 128-d embeddings, Euclidean distance, usual threshold 0.6.

Weights ship in ``face-recognition-models`` (``dlib_face_recognition_resnet_model_v1.dat``,
Davis King, CC0/public domain per dlib-models; trained on ~3M faces, 99.38% on LFW).
Alignment uses the 5-point shape predictor from the same package.
"""

from __future__ import annotations

import threading
from typing import Literal

import numpy as np

from ml.detectors.base import Detection
from ml.verifiers.base import VerifierUnavailable, euclidean
from ml.weights import dlib_model_path

_lock = threading.Lock()
_models: dict[str, object] = {}


def _load() -> tuple[object, object]:
    with _lock:
        if not _models:
            try:
                import dlib
            except ImportError as exc:  # pragma: no cover - dlib-bin is a requirement
                raise VerifierUnavailable("dlib is not installed (pip install dlib-bin)") from exc
            try:
                _models["sp"] = dlib.shape_predictor(str(dlib_model_path("shape_predictor_5_face_landmarks.dat")))
                _models["rec"] = dlib.face_recognition_model_v1(
                    str(dlib_model_path("dlib_face_recognition_resnet_model_v1.dat")))
            except FileNotFoundError as exc:
                raise VerifierUnavailable(str(exc)) from exc
        return _models["sp"], _models["rec"]


class DlibResnetVerifier:
    model_id = "dlib-resnet"  # licence and weights: ml.registry
    version = "dlib_face_recognition_resnet_model_v1"
    metric: Literal["euclidean", "cosine"] = "euclidean"
    threshold = 0.6

    def __init__(self, num_jitters: int = 0) -> None:
        self._sp, self._rec = _load()
        self.num_jitters = num_jitters

    def embed(self, image: np.ndarray, face: Detection | None = None) -> np.ndarray:
        """128-d embedding of ``face`` (or of the whole image when None) in an RGB uint8 image.

        dlib aligns the face itself from its 5-point landmarks inside the given box."""
        import dlib

        img = np.ascontiguousarray(image, dtype=np.uint8)
        h, w = img.shape[:2]
        if face is None:
            x1, y1, x2, y2 = 0.0, 0.0, float(w), float(h)
        else:
            x1, y1, x2, y2 = face.box
        rect = dlib.rectangle(max(0, int(round(x1))), max(0, int(round(y1))),
                              min(w - 1, int(round(x2))), min(h - 1, int(round(y2))))
        shape = self._sp(img, rect)  # type: ignore[operator]
        if self.num_jitters:
            desc = self._rec.compute_face_descriptor(img, shape, self.num_jitters)  # type: ignore[attr-defined]
        else:
            desc = self._rec.compute_face_descriptor(img, shape)  # type: ignore[attr-defined]
        return np.asarray(desc, dtype=np.float32)

    def distance(self, a: np.ndarray, b: np.ndarray) -> float:
        return euclidean(a, b)

