"""Classical baselines: CLAHE on the L channel of Lab, and a global gamma."""

from __future__ import annotations

import cv2
import numpy as np

from enhancement.assess import downscale, luma
from enhancement.base import check_image

CODE_VERSION = "2026.11.1"


def clahe_version(clip_limit: float = 3.0, tiles: int = 8) -> str:
    return f"{CODE_VERSION}-clip{float(clip_limit):g}-t{int(tiles)}"


def gamma_version(target: float = 0.45) -> str:
    return f"{CODE_VERSION}-t{float(target):g}"


class ClaheEnhancer:
    """Contrast-limited adaptive histogram equalisation of L (Lab), colour kept."""

    model_id = "clahe"

    def __init__(self, clip_limit: float = 3.0, tiles: int = 8) -> None:
        self.clip_limit = float(clip_limit)
        self.tiles = int(tiles)
        self.version = clahe_version(self.clip_limit, self.tiles)
        self._clahe = cv2.createCLAHE(clipLimit=self.clip_limit, tileGridSize=(self.tiles, self.tiles))

    def enhance(self, image: np.ndarray) -> np.ndarray:
        check_image(image)
        lab = cv2.cvtColor(image, cv2.COLOR_RGB2LAB)
        lab[..., 0] = self._clahe.apply(np.ascontiguousarray(lab[..., 0]))
        return cv2.cvtColor(lab, cv2.COLOR_LAB2RGB)


class GammaEnhancer:
    """One global gamma, chosen so that the mean luminance becomes ``target`` (0..1)."""

    model_id = "gamma"

    def __init__(self, target: float = 0.45, max_gamma: float = 10.0) -> None:
        self.target = float(target)
        self.max_gamma = float(max_gamma)
        self.version = gamma_version(self.target)

    def gamma_for(self, image: np.ndarray) -> float:
        """Exponent g (output = input ** g) bringing the mean luminance to ``target``; solved by
        bisection on a small copy because the mean of x**g is not the mean to the power g."""
        y = luma(downscale(image, 256)).ravel()
        y = np.clip(y, 1.0 / 255.0, 1.0)
        lo, hi = 1.0 / self.max_gamma, self.max_gamma
        for _ in range(30):
            mid = np.sqrt(lo * hi)
            if float(np.mean(y**mid)) > self.target:
                lo = mid
            else:
                hi = mid
        return float(np.sqrt(lo * hi))

    def enhance(self, image: np.ndarray) -> np.ndarray:
        check_image(image)
        g = self.gamma_for(image)
        lut = np.clip(np.round(255.0 * (np.arange(256) / 255.0) ** g), 0, 255).astype(np.uint8)
        return cv2.LUT(image, lut)

