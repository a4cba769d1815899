"""Realistic low-light degradation of a well-lit sRGB photo: what a phone sensor records in
a dark room. Used to make training data and by the benchmark.

Linear light is scaled down, photons are counted (Poisson shot noise), the read-out adds
Gaussian noise, and the result is encoded as an 8-bit sRGB JPEG.
"""

from __future__ import annotations

import cv2
import numpy as np


def srgb_to_linear(x: np.ndarray) -> np.ndarray:
    return np.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4)


def linear_to_srgb(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return np.where(x <= 0.0031308, 12.92 * x, 1.055 * np.power(x, 1.0 / 2.4) - 0.055)


def jpeg_roundtrip(rgb: np.ndarray, quality: int) -> np.ndarray:
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    decoded = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    if decoded is None:
        raise RuntimeError("JPEG decoding failed")
    return cv2.cvtColor(decoded, cv2.COLOR_BGR2RGB)


def darken(
    rgb: np.ndarray,
    rng: np.random.Generator,
    *,
    light: float = 0.015,
    photons: float = 400.0,
    read_sigma: float = 0.002,
    jpeg_quality: int | None = 85,
) -> np.ndarray:
    """``light``: factor on linear intensity; ``photons``: photons a white pixel of the LIT
    scene would collect (so a dark white pixel collects ``light * photons``); ``read_sigma``:
    Gaussian read noise on the linear 0..1 scale. Returns an RGB uint8 image."""
    lin: np.ndarray = srgb_to_linear(rgb.astype(np.float32) / 255.0) * light
    if photons > 0:
        lin = rng.poisson(lin * photons).astype(np.float32) / photons
    if read_sigma > 0:
        lin = lin + rng.normal(0.0, read_sigma, size=lin.shape).astype(np.float32)
    out = np.clip(np.round(linear_to_srgb(lin) * 255.0), 0, 255).astype(np.uint8)
    return jpeg_roundtrip(out, jpeg_quality) if jpeg_quality else out
