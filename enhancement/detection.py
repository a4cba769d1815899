"""What a face detector should see of an enhanced low-light photo.

A tone curve (Zero-DCE++, CLAHE, gamma) brightens the sensor noise of a dark photo together
with the face, and at the light levels where detection fails it fails on noise, not on
brightness (FINDINGS). So the copy a detector runs on is the enhanced image, reduced to the
detector's input size, then smoothed with a Gaussian of ``sigma`` pixels of that reduced
image. The copy a person looks at (moderators, crops) is not smoothed.

Measured with ``bench/enhance.py`` (RetinaFace-MobileNet, faces darkened to x0.008-x0.1 with
shot and read noise, long side <= 1024, three noise draws): with sigma 2 the pipeline's path
(dark OR smoothed Zero-DCE++) wins back 53% / 35% / 36% of the recall lost to darkness at
x0.008 / x0.015 / x0.03, against 27% / 0% / -7% for Zero-DCE++ unsmoothed. Sigma 1-1.5 won
back less, 2.5-3 no more; median, bilateral and non-local-means filters less; a
noise-adaptive sigma nothing more. See docs/benchmarks.md.
"""

from __future__ import annotations

import cv2
import numpy as np

from enhancement.base import check_image

#: Gaussian sigma, in pixels of the image the detector sees (long side ~1024).
DETECTION_SIGMA = 2.0


def for_detection(enhanced: np.ndarray, sigma: float = DETECTION_SIGMA) -> np.ndarray:
    """The enhanced image as a face detector should see it: smoothed against amplified noise.

    ``enhanced`` is RGB uint8 (H, W, 3) at the size the detector will run at (smoothing
    before a reduction would be wasted work and change the effective sigma). ``sigma`` <= 0
    returns the image unchanged. Coordinates are unchanged: detections on the result are
    detections on ``enhanced``.
    """
    check_image(enhanced)
    if sigma <= 0:
        return enhanced
    return cv2.GaussianBlur(enhanced, (0, 0), sigmaX=float(sigma), sigmaY=float(sigma),
                            borderType=cv2.BORDER_REFLECT_101)
