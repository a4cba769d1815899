"""Test photos made from scikit-image's public-domain samples (no downloads)."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image
from skimage import data


def jpeg(rgb: np.ndarray, quality: int = 92) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def astronaut(mark: int = 0) -> np.ndarray:
    """The astronaut; ``mark`` changes a few corner pixels so each copy has its own SHA-256."""
    img = data.astronaut().copy()
    img[0:3, 0:(mark % 300) + 1] = (mark * 37 % 256, mark * 91 % 256, mark * 13 % 256)
    return img


def coffee() -> np.ndarray:
    return data.coffee()


def two_faces() -> np.ndarray:
    img = data.astronaut()
    return np.hstack([img, img[:, ::-1]])


def darkened(rgb: np.ndarray, factor: float = 0.05, seed: int = 0) -> np.ndarray:
    """Linear light x ``factor`` plus Gaussian read noise, back to sRGB (an under-exposed shot)."""
    rng = np.random.default_rng(seed)
    lin = (rgb.astype(np.float64) / 255.0) ** 2.2 * factor
    lin = np.clip(lin + rng.normal(0.0, 0.002, lin.shape), 0.0, 1.0)
    return (lin ** (1 / 2.2) * 255.0 + 0.5).astype(np.uint8)
