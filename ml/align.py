"""Face alignment: a similarity transform of the five landmarks onto the ArcFace template.

The template is the one InsightFace uses for 112x112 ArcFace crops (left eye, right eye, nose
tip, mouth left, mouth right, in image coordinates); the 224x224 crop uses the same template
scaled by two, so both crops frame the face identically.
"""

from __future__ import annotations

import cv2
import numpy as np

ARCFACE_112 = np.array([[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366],
                        [41.5493, 92.3655], [70.7299, 92.2041]], dtype=np.float64)


def template(size: int = 112) -> np.ndarray:
    """The five-point template for a ``size`` x ``size`` crop (112 is the ArcFace original)."""
    return ARCFACE_112 * (size / 112.0)


def umeyama(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Least-squares similarity transform (rotation, uniform scale, translation; no reflection)
    mapping ``src`` points onto ``dst`` points (Umeyama 1991). Returns a 2x3 matrix."""
    src = np.asarray(src, dtype=np.float64)
    dst = np.asarray(dst, dtype=np.float64)
    if src.shape != dst.shape or src.ndim != 2 or src.shape[1] != 2 or src.shape[0] < 2:
        raise ValueError(f"need two matching (N>=2, 2) point sets, got {src.shape} and {dst.shape}")
    n = src.shape[0]
    mu_s, mu_d = src.mean(axis=0), dst.mean(axis=0)
    s_c, d_c = src - mu_s, dst - mu_d
    cov = d_c.T @ s_c / n
    u, sig, vt = np.linalg.svd(cov)
    d = np.ones(2)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        d[-1] = -1.0
    rot = u @ np.diag(d) @ vt
    var_s = (s_c**2).sum() / n
    scale = float((sig * d).sum() / var_s) if var_s > 0 else 1.0
    t = mu_d - scale * rot @ mu_s
    return np.hstack([scale * rot, t[:, None]])


def alignment_matrix(landmarks: np.ndarray | list | tuple, size: int = 112) -> np.ndarray:
    """2x3 matrix taking image coordinates to the ``size`` crop's coordinates."""
    pts = np.asarray(landmarks, dtype=np.float64).reshape(-1, 2)
    if pts.shape[0] != 5:
        raise ValueError(f"alignment needs five landmarks, got {pts.shape[0]}")
    return umeyama(pts, template(size))


def align_face(image: np.ndarray, landmarks: np.ndarray | list | tuple, size: int = 112) -> np.ndarray:
    """The aligned ``size`` x ``size`` face crop of ``image`` (any channel count, uint8)."""
    m = alignment_matrix(landmarks, size)
    return cv2.warpAffine(image, m, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT101)
