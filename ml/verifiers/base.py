"""The one interface every face verifier implements (the registry is ``ml.registry``)."""

from __future__ import annotations

from typing import Literal, Protocol

import numpy as np

from ml.detectors.base import Detection


class Verifier(Protocol):
    """Maps a face to an embedding; smaller ``distance`` means more likely the same person.

    ``threshold`` is the model's usual decision threshold: same person when distance ≤ it."""

    model_id: str
    version: str
    metric: Literal["euclidean", "cosine"]
    threshold: float

    def embed(self, image: np.ndarray, face: Detection | None = None) -> np.ndarray: ...

    def distance(self, a: np.ndarray, b: np.ndarray) -> float: ...


class VerifierUnavailable(RuntimeError):
    """The verifier cannot load here; the message says what to do."""


def euclidean(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(np.asarray(a, np.float32) - np.asarray(b, np.float32)))


def cosine_distance(a: np.ndarray, b: np.ndarray) -> float:
    a = np.asarray(a, np.float32)
    b = np.asarray(b, np.float32)
    denom = float(np.linalg.norm(a) * np.linalg.norm(b)) or 1.0
    return 1.0 - float(a @ b) / denom
