"""The one interface every enhancer implements. ``ml.registry`` lists and builds them
(``enhancement`` never imports ``ml``: the registry depends on the library, not the reverse)."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class Enhancer(Protocol):
    """``enhance`` takes an RGB uint8 array (H, W, 3) and returns an RGB uint8 array of the
    same shape. ``version`` changes whenever the output can change (code or weights)."""

    model_id: str
    version: str

    def enhance(self, image: np.ndarray) -> np.ndarray: ...


def check_image(image: np.ndarray) -> None:
    if not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        shape = getattr(image, "shape", None)
        raise ValueError(f"expected an RGB uint8 array (H, W, 3), got {getattr(image, 'dtype', type(image))} {shape}")
