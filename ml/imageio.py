"""Image decoding helpers that do no more work than a step needs.

A 12 MP phone JPEG costs ~35 ms to decode in full but ~8-16 ms through Pillow's ``draft()``,
which asks libjpeg to decode at 1/2, 1/4 or 1/8 scale straight from the DCT coefficients.
Assessment and detection only need ~1000 px, so they get a reduced decode; the full
resolution is decoded only for what a person looks at (the enhanced copy) and, at the
smallest sufficient DCT scale, for the face crops.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image


@dataclass(frozen=True)
class Decoded:
    """An RGB uint8 image and its scale relative to the full-resolution original."""

    rgb: np.ndarray
    scale: float  # decoded width / original width
    full_size: tuple[int, int]  # (width, height) of the original


def decode_at_scale(data: bytes, scale: float) -> Decoded:
    """Decode at the smallest DCT scale (1, 1/2, 1/4, 1/8) that is at least ``scale``."""
    with Image.open(io.BytesIO(data)) as im:
        full = im.size
        if scale < 1.0:
            im.draft("RGB", (max(1, int(full[0] * scale)), max(1, int(full[1] * scale))))
        im = im.convert("RGB") if im.mode != "RGB" else im
        im.load()
        arr = np.asarray(im)
    return Decoded(rgb=arr, scale=arr.shape[1] / full[0], full_size=full)


def image_size(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as im:
        return im.size


def decode(data: bytes, *, max_side: int | None = None, min_side: int | None = None) -> Decoded:
    """Decode ``data`` to RGB.

    ``max_side``: the result's long side is at most this (DCT-scaled decode, then an area
    resize for the remainder). ``min_side``: lets ``draft()`` go down to a DCT scale whose long
    side is at least this, even if that is below ``max_side`` (saves the resize; the detectors
    are as good at 1008 px as at 1024). With neither, the full image is decoded.
    Raises ``OSError``/``PIL.UnidentifiedImageError`` for a corrupt or truncated file.
    """
    with Image.open(io.BytesIO(data)) as im:
        full = im.size
        long_side = max(full)
        if max_side and long_side > max_side:
            floor_side = min_side or max_side
            r = floor_side / long_side
            im.draft("RGB", (max(1, int(full[0] * r)), max(1, int(full[1] * r))))
        im = im.convert("RGB") if im.mode != "RGB" else im
        im.load()
        arr = np.asarray(im)
    if max_side and max(arr.shape[:2]) > max_side:
        s = max_side / max(arr.shape[:2])
        arr = cv2.resize(arr, (max(1, round(arr.shape[1] * s)), max(1, round(arr.shape[0] * s))),
                         interpolation=cv2.INTER_AREA)
    return Decoded(rgb=arr, scale=arr.shape[1] / full[0], full_size=full)


def encode_jpeg(rgb: np.ndarray, quality: int = 90) -> bytes:
    """JPEG bytes of an RGB uint8 image (no metadata at all)."""
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:  # pragma: no cover
        raise ValueError("JPEG encoding failed")
    return buf.tobytes()


def resize_long_side(rgb: np.ndarray, long_side: int) -> np.ndarray:
    h, w = rgb.shape[:2]
    if max(h, w) <= long_side:
        return rgb
    s = long_side / max(h, w)
    return cv2.resize(rgb, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)
