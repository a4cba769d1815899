"""The one interface every face detector implements (the registry is ``ml.registry``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

import numpy as np


@dataclass(frozen=True)
class Detection:
    """One face: box (x1, y1, x2, y2) in pixels of the image given, score in [0, 1], and the
    five landmarks (left eye, right eye, nose, left mouth corner, right mouth corner) as
    (x, y) pairs, or an empty tuple when the model has none."""

    box: tuple[float, float, float, float]
    score: float
    landmarks: tuple[tuple[float, float], ...] = field(default_factory=tuple)

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["box"] = [round(float(v), 2) for v in self.box]
        d["landmarks"] = [[round(float(x), 2), round(float(y), 2)] for x, y in self.landmarks]
        d["score"] = round(float(self.score), 4)
        return d

    def scaled(self, factor: float) -> Detection:
        return Detection(box=tuple(v * factor for v in self.box),  # type: ignore[arg-type]
                         score=self.score,
                         landmarks=tuple((x * factor, y * factor) for x, y in self.landmarks))


class Detector(Protocol):
    """``detect`` takes an RGB uint8 array (H, W, 3) and returns faces, best first."""

    model_id: str
    version: str

    def detect(self, image: np.ndarray) -> list[Detection]: ...


class DetectorUnavailable(RuntimeError):
    """The detector cannot load here (for example its weights file is not installed).

    The message says what to do about it."""
