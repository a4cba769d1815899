"""The one interface every enhancer implements, and the registry."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class Enhancer(Protocol):
    """``enhance`` takes an RGB uint8 array (H, W, 3) and returns an RGB uint8 array of the
    same shape. ``version`` changes whenever the output can change (code or weights)."""

    model_id: str
    version: str

    def enhance(self, image: np.ndarray) -> np.ndarray: ...


_REGISTRY: dict[str, Callable[..., Enhancer]] = {}


def register_enhancer(name: str) -> Callable[[Callable[..., Enhancer]], Callable[..., Enhancer]]:
    def deco(factory: Callable[..., Enhancer]) -> Callable[..., Enhancer]:
        _REGISTRY[name] = factory
        return factory

    return deco


def _load_builtin() -> None:
    # Importing the modules registers them; lazy so that ``import enhancement`` stays cheap
    # (torch is imported only when Zero-DCE++ is created).
    import enhancement.classical  # noqa: F401
    import enhancement.zero_dce  # noqa: F401


def list_enhancers() -> list[str]:
    _load_builtin()
    return sorted(_REGISTRY)


def create_enhancer(name: str, **kwargs: Any) -> Enhancer:
    """Build a registered enhancer; KeyError for an unknown name."""
    _load_builtin()
    if name not in _REGISTRY:
        raise KeyError(f"Unknown enhancer {name!r}; registered: {', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[name](**kwargs)


def check_image(image: np.ndarray) -> None:
    if not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        shape = getattr(image, "shape", None)
        raise ValueError(f"expected an RGB uint8 array (H, W, 3), got {getattr(image, 'dtype', type(image))} {shape}")
