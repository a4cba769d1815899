"""Low-light assessment: cheap luminance statistics of a photo.

Works on a downscaled copy (long side ``work_size`` px), so the caller may pass the full
image or a reduced one (for example a JPEG decoded with Pillow's ``draft()``): the figures
barely change with the input size, and the cost stays under a couple of milliseconds.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import cv2
import numpy as np

# Defaults, documented because the pipeline stores them beside each verdict.
#: A photo is low light when its mean luminance (0..1, sRGB-encoded Rec. 709 luma) is below this...
MEAN_THRESHOLD = 0.25
#: ...or when more than ``DARK_FRACTION_THRESHOLD`` of its pixels are darker than ``DARK_LEVEL``
#: (a dark scene with a bright lamp or window in it has a higher mean but is still dark where
#: the face is).
DARK_LEVEL = 0.12
DARK_FRACTION_THRESHOLD = 0.6
#: A photo whose brightest 5% is still this dark has no well-lit region at all.
P95_THRESHOLD = 0.35
#: Statistics are computed on a copy whose long side is at most this many pixels.
WORK_SIZE = 256


@dataclass(frozen=True)
class LowLightReport:
    """Luminance statistics of one photo; all levels are on the 0..1 scale."""

    is_low_light: bool
    mean: float
    median: float
    p05: float
    p95: float
    dark_fraction: float  # share of pixels darker than ``dark_level``
    noise_estimate: float  # sigma of the noise (0..1 scale), Immerkaer's method on the luma
    dark_level: float
    mean_threshold: float
    dark_fraction_threshold: float
    p95_threshold: float
    width: int  # size of the image that was given
    height: int

    def as_dict(self) -> dict[str, Any]:
        """JSON-safe plain types, rounded."""
        out: dict[str, Any] = {}
        for key, value in asdict(self).items():
            if isinstance(value, bool | np.bool_):
                out[key] = bool(value)
            elif isinstance(value, float | np.floating):
                out[key] = round(float(value), 4)
            else:
                out[key] = int(value) if isinstance(value, np.integer) else value
        return out


def luma(rgb: np.ndarray) -> np.ndarray:
    """Rec. 709 luma of an RGB uint8 image, float32 in 0..1."""
    r, g, b = (rgb[..., i].astype(np.float32) for i in range(3))
    return (0.2126 * r + 0.7152 * g + 0.0722 * b) * (1.0 / 255.0)


def downscale(rgb: np.ndarray, long_side: int) -> np.ndarray:
    """Area-averaged copy whose long side is at most ``long_side`` (the image itself if smaller).

    Large inputs are first strided down to about four times the target: an area average over
    a full 12 MP photo costs ~35 ms on one core, the strided one ~2 ms, and 16 samples per
    output pixel remain averaged."""
    h, w = rgb.shape[:2]
    if max(h, w) <= long_side:
        return rgb
    step = max(1, max(h, w) // (long_side * 4))
    if step > 1:
        rgb = np.ascontiguousarray(rgb[::step, ::step])
        h, w = rgb.shape[:2]
    scale = long_side / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)


def _noise_sigma(y: np.ndarray) -> float:
    """Immerkaer (1996) fast noise variance estimation: a Laplacian-difference mask that
    cancels smooth image structure and keeps the noise."""
    if min(y.shape) < 3:
        return 0.0
    kernel = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], dtype=np.float32)
    resp = cv2.filter2D(y, -1, kernel, borderType=cv2.BORDER_REPLICATE)[1:-1, 1:-1]
    h, w = resp.shape
    return float(np.sqrt(np.pi / 2.0) / (6.0 * w * h) * np.abs(resp).sum())


def assess(
    rgb: np.ndarray,
    *,
    mean_threshold: float = MEAN_THRESHOLD,
    dark_level: float = DARK_LEVEL,
    dark_fraction_threshold: float = DARK_FRACTION_THRESHOLD,
    p95_threshold: float = P95_THRESHOLD,
    work_size: int = WORK_SIZE,
) -> LowLightReport:
    """Assess whether an RGB uint8 image (H, W, 3) is low light.

    ``is_low_light`` is true when the mean luminance is below ``mean_threshold``, or the share
    of pixels darker than ``dark_level`` exceeds ``dark_fraction_threshold``, or the 95th
    percentile is below ``p95_threshold``. The noise estimate is taken on the downscaled copy,
    so it measures noise that survives averaging (what a detector at reduced size sees).
    """
    if rgb.ndim != 3 or rgb.shape[2] != 3 or rgb.dtype != np.uint8:
        raise ValueError(f"expected an RGB uint8 array (H, W, 3), got {rgb.dtype} {rgb.shape}")
    h, w = rgb.shape[:2]
    y = luma(downscale(rgb, work_size))
    p05, median, p95 = (float(v) for v in np.percentile(y, [5, 50, 95]))
    mean = float(y.mean())
    dark_fraction = float((y < dark_level).mean())
    is_low = mean < mean_threshold or dark_fraction > dark_fraction_threshold or p95 < p95_threshold
    return LowLightReport(
        is_low_light=bool(is_low),
        mean=mean,
        median=median,
        p05=p05,
        p95=p95,
        dark_fraction=dark_fraction,
        noise_estimate=_noise_sigma(y),
        dark_level=dark_level,
        mean_threshold=mean_threshold,
        dark_fraction_threshold=dark_fraction_threshold,
        p95_threshold=p95_threshold,
        width=int(w),
        height=int(h),
    )
