"""The one interface every face verifier implements, and the registry."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal, Protocol

import numpy as np

from ml.detectors.base import Detection


class Verifier(Protocol):
    """Maps a face to an embedding; smaller ``distance`` means more likely the same person.

    ``threshold`` is the model's usual decision threshold: same person when distance ≤ it."""

    model_id: str
    version: str
    license: str
    weights_source: str
    metric: Literal["euclidean", "cosine"]
    threshold: float

    def embed(self, image: np.ndarray, face: Detection | None = None) -> np.ndarray: ...

    def distance(self, a: np.ndarray, b: np.ndarray) -> float: ...


class VerifierUnavailable(RuntimeError):
    """The verifier cannot load here; the message says what to do."""


_REGISTRY: dict[str, Callable[..., Verifier]] = {}


def register_verifier(name: str) -> Callable[[Callable[..., Verifier]], Callable[..., Verifier]]:
    def deco(factory: Callable[..., Verifier]) -> Callable[..., Verifier]:
        _REGISTRY[name] = factory
        return factory

    return deco


def _load_builtin() -> None:
    import ml.verifiers.dlib_resnet  # noqa: F401  (registers itself)
    from ml.trained import register_installed

    register_installed()  # models trained on the workbench and registered as reference models


def list_verifiers() -> list[str]:
    _load_builtin()
    return sorted(_REGISTRY)


def create_verifier(name: str, **kwargs: Any) -> Verifier:
    _load_builtin()
    if name not in _REGISTRY:
        raise KeyError(f"Unknown verifier {name!r}; registered: {', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[name](**kwargs)


def euclidean(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(np.asarray(a, np.float32) - np.asarray(b, np.float32)))


def cosine_distance(a: np.ndarray, b: np.ndarray) -> float:
    a = np.asarray(a, np.float32)
    b = np.asarray(b, np.float32)
    denom = float(np.linalg.norm(a) * np.linalg.norm(b)) or 1.0
    return 1.0 - float(a @ b) / denom
