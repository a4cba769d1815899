"""Face image quality measures: pure functions on an image and the face's five landmarks.

What is measured follows ISO/IEC 29794-5 and the OFIQ components (sharpness, exposure, face
fully in frame); how is chosen so that the number means the same for every photo that reaches
the pipeline, whatever its resolution, compression and noise:

- **One face scale.** Every measure is taken on the face aligned to the ArcFace template at
  ``FACE_SCALE`` px (inter-eye distance ~30 px), reduced with area averaging (not point
  sampling) from the photo. A 12 MP selfie and a 200 px webcam face are compared at the same
  number of pixels per face, so resolution stops being what is measured, and the averaging
  removes most sensor noise and JPEG blocking (both live at the photo's own pixel scale).
- **Sharpness as a ratio of scales, not a variance.** The variance of the Laplacian grows with
  contrast, noise and resolution. ``sharpness`` is the face's gradient energy after a slight
  smoothing (sigma ``SIGMA_FINE``) divided by the same after a stronger one (``SIGMA_COARSE``):
  a Gaussian blur of the face lowers it towards 1 (nothing left between the two scales) and it
  does not move when the contrast or brightness changes.
- **Noise removed before it is measured.** The noise of the photo is estimated at its own
  pixel scale on the face (``noise_sigma``: where it is white and easy to see), carried to the
  crop's scale, and the crop is denoised with non-local means at a strength proportional to it
  (``DENOISE_STRENGTH``) before ``sharpness`` reads it. Non-local means keeps edges that are
  there and removes grain that is not, so a noisy dark photo neither reads sharp nor loses the
  detail a clean photo keeps (a clean photo's estimate is ~0 and it is not filtered at all).
- **Exposure on the original light.** ``exposure`` reads the face as the camera recorded it
  (before any enhancement): the mean and the brightest tenth of the inner face. The bright
  tenth carries the light falling on the face (forehead, cheekbones and nose catch it on any
  skin), so it separates a dim photo from dark skin in ordinary light far better than the mean.
- **In frame.** ``outside_share`` is the share of the face region of the template that the
  landmarks place outside the photo (detectors clip their boxes, landmarks are not clipped).

The thresholds that turn these numbers into findings are the pipeline's (``Thresholds`` in
``facecommons.pipeline.analysis``), calibrated by ``bench/calibrate_quality.py``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import cv2
import numpy as np

from ml.align import alignment_matrix

#: Side of the aligned crop every measure is taken on: the ArcFace template at this size puts
#: the eyes ~30 px apart, coarse enough that area averaging from a 200 px face removes most of
#: its noise and blocking, fine enough that a face blurred by 4% of its width loses most of
#: its detail between the two scales below.
FACE_SCALE = 96
#: Gaussian sigmas (pixels of the ``FACE_SCALE`` crop) of the two scales whose gradient
#: energies ``sharpness`` compares.
SIGMA_FINE = 0.7
SIGMA_COARSE = 2.0
#: Non-local means strength (its ``h``) per unit of noise sigma at the crop's scale. Chosen on
#: 150 utk faces (all race x gender cells), lit, blurred 4%, noisy and darkened x0.015 then
#: enhanced: 2 left enhanced dark faces reading sharper than their lit originals, 8 began to
#: erase real detail of noisy sharp faces; 4 did neither.
DENOISE_STRENGTH = 4.0
#: Side (pixels of the photo) of the window on the face in which the noise is estimated.
NOISE_WINDOW = 192
#: The inner face (eyebrows to mouth, cheek to cheek) as fractions of the crop side: excludes
#: hair, ears and background, whose edges say nothing about the face.
INNER = (0.15, 0.85)
#: The face that must be in the frame (brows to chin, cheek to cheek) in the 112 px ArcFace
#: template's coordinates. Measured on the calibration set (bench/calibrate_quality.py): the
#: template's whole head (x 18-94, y 14-110) lies partly outside 20-30% of tightly framed
#: utk photos whose forehead touches the edge; this region, outside 0.6% of them, still has
#: more than 15% outside in 99% of faces with a third cut away.
_FACE_IN_TEMPLATE = np.stack(np.meshgrid(np.linspace(20, 92, 9), np.linspace(24, 104, 9)), -1).reshape(-1, 2)


@dataclass(frozen=True)
class FaceQuality:
    """The measures of one face; see the module docstring for what each means."""

    sharpness: float  # >= 1; 1 means no detail at all between the fine and the coarse scale
    noise: float  # sigma of the photo's noise on the face, at the photo's pixel scale, 0-1
    brightness: float  # mean luma of the inner face, 0-1
    highlight: float  # 90th percentile of the inner face's luma, 0-1
    outside_share: float  # share of the face region outside the photo, 0-1
    face_scale: float  # crop pixels per photo pixel (> 1: the face was smaller than the crop)

    def as_dict(self) -> dict[str, Any]:
        return {k: round(float(v), 4) for k, v in asdict(self).items()}


def face_gray(image: np.ndarray, landmarks: Any, size: int = FACE_SCALE) -> tuple[np.ndarray, float]:
    """The face aligned at ``size`` px as float32 luma in 0..1, and the crop's scale (crop
    pixels per image pixel).

    ``image``: RGB or grey uint8. Only the face's neighbourhood is reduced (area averaging) to
    about the crop's scale before the alignment warp, so the cost does not grow with the photo.
    """
    pts = np.asarray(landmarks, dtype=np.float64).reshape(-1, 2)
    m = alignment_matrix(pts, size)
    k = float(np.sqrt(abs(np.linalg.det(m[:, :2]))))
    h, w = image.shape[:2]
    # The crop's corners in the photo, with a margin for the warp's interpolation.
    inv = cv2.invertAffineTransform(m)
    corners = np.array([[0, 0], [size, 0], [0, size], [size, size]], np.float64) @ inv[:, :2].T + inv[:, 2]
    pad = 2.0 / max(k, 1e-6)
    x0 = int(max(0, np.floor(corners[:, 0].min() - pad)))
    y0 = int(max(0, np.floor(corners[:, 1].min() - pad)))
    x1 = int(min(w, np.ceil(corners[:, 0].max() + pad)))
    y1 = int(min(h, np.ceil(corners[:, 1].max() + pad)))
    if x1 - x0 < 2 or y1 - y0 < 2:  # the face lies outside the photo: nothing to measure
        return np.zeros((size, size), np.float32), k
    region = image[y0:y1, x0:x1]
    if region.ndim == 3:
        region = cv2.cvtColor(np.ascontiguousarray(region), cv2.COLOR_RGB2GRAY)
    local = pts - (x0, y0)
    if k < 1.0:
        rw, rh = max(2, round(region.shape[1] * k)), max(2, round(region.shape[0] * k))
        local = local * (rw / region.shape[1], rh / region.shape[0])
        region = cv2.resize(region, (rw, rh), interpolation=cv2.INTER_AREA)
    m2 = alignment_matrix(local, size)
    crop = cv2.warpAffine(region, m2, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT101)
    return crop.astype(np.float32) * (1.0 / 255.0), k


def _inner(a: np.ndarray) -> np.ndarray:
    n = a.shape[0]
    lo, hi = int(round(INNER[0] * n)), int(round(INNER[1] * n))
    return a[lo:hi, lo:hi]


def _grad_energy(gray: np.ndarray, sigma: float) -> float:
    b = cv2.GaussianBlur(gray, (0, 0), sigma, borderType=cv2.BORDER_REFLECT101)
    gx = cv2.Sobel(b, cv2.CV_32F, 1, 0, ksize=3, borderType=cv2.BORDER_REFLECT101)
    gy = cv2.Sobel(b, cv2.CV_32F, 0, 1, ksize=3, borderType=cv2.BORDER_REFLECT101)
    return float(np.mean(_inner(gx) ** 2 + _inner(gy) ** 2))


def noise_sigma(gray: np.ndarray) -> float:
    """Noise sigma of a grey 0..1 image: Immerkaer's (1996) Laplacian-difference mask cancels
    smooth structure; the median of its magnitude (not the mean) ignores the face's edges."""
    if min(gray.shape) < 3:
        return 0.0
    kernel = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], dtype=np.float32)
    resp = cv2.filter2D(gray, -1, kernel, borderType=cv2.BORDER_REFLECT101)[1:-1, 1:-1]
    # The mask's response to unit white noise has sigma 6; 1.4826 * MAD estimates a sigma.
    return float(1.4826 * np.median(np.abs(resp)) / 6.0)


def denoise(gray: np.ndarray, noise: float) -> np.ndarray:
    """``gray`` (0..1) with noise of sigma ``noise`` removed by non-local means; unchanged when
    the noise is below a quarter of a grey level (the filter would only cost time)."""
    h = DENOISE_STRENGTH * noise * 255.0
    if h < 1.0:
        return gray
    u8 = np.clip(gray * 255.0 + 0.5, 0, 255).astype(np.uint8)
    out = cv2.fastNlMeansDenoising(u8, None, h=float(h), templateWindowSize=5, searchWindowSize=11)
    return out.astype(np.float32) * (1.0 / 255.0)


def sharpness(gray: np.ndarray) -> float:
    """How much detail the face keeps between the fine and the coarse scale: >= 1, higher is
    sharper (see the module docstring). ``gray``: the ``face_gray`` crop, denoised."""
    fine = _grad_energy(gray, SIGMA_FINE)
    coarse = _grad_energy(gray, SIGMA_COARSE)
    if coarse <= 1e-9:  # a flat crop: no structure at any scale
        return 1.0
    return max(1.0, fine / coarse)


def exposure(gray: np.ndarray) -> tuple[float, float]:
    """(mean, 90th percentile) of the inner face's luma, 0..1."""
    inner = _inner(gray)
    return float(inner.mean()), float(np.percentile(inner, 90))


def outside_share(landmarks: Any, width: float, height: float) -> float:
    """Share of the face (as its five landmarks place it) that lies outside a ``width`` x
    ``height`` photo, 0..1.

    Detectors clip their boxes to the image, so the box cannot say that a face is cut off; the
    landmarks can: the face region of the alignment template, mapped back into the photo."""
    m = alignment_matrix(landmarks, 112)
    inv = cv2.invertAffineTransform(m)
    pts = _FACE_IN_TEMPLATE @ inv[:, :2].T + inv[:, 2]
    inside = (pts[:, 0] >= 0) & (pts[:, 0] <= width) & (pts[:, 1] >= 0) & (pts[:, 1] <= height)
    return float(1.0 - inside.mean())


def photo_noise(image: np.ndarray, landmarks: Any) -> float:
    """Noise sigma (0..1) of ``image`` at its own pixel scale, on a window centred on the face
    (between the eyes and the mouth), at most ``NOISE_WINDOW`` px a side."""
    pts = np.asarray(landmarks, dtype=np.float64).reshape(-1, 2)
    cx, cy = pts.mean(axis=0)
    eyes = float(np.hypot(*(pts[1] - pts[0])))
    half = int(max(8, min(NOISE_WINDOW, 2 * eyes) // 2))
    h, w = image.shape[:2]
    x0, x1 = int(max(0, cx - half)), int(min(w, cx + half))
    y0, y1 = int(max(0, cy - half)), int(min(h, cy + half))
    if x1 - x0 < 8 or y1 - y0 < 8:
        return 0.0
    win = image[y0:y1, x0:x1]
    if win.ndim == 3:
        win = cv2.cvtColor(np.ascontiguousarray(win), cv2.COLOR_RGB2GRAY)
    return noise_sigma(win.astype(np.float32) * (1.0 / 255.0))


def face_quality(image: np.ndarray, landmarks: Any, *, original: np.ndarray | None = None,
                 original_scale: float = 1.0) -> FaceQuality:
    """All measures of one face.

    ``image``: the photo the face is judged on (the enhanced copy of a dark photo, else the
    photo), RGB uint8, with ``landmarks`` in its pixels. ``original``: the photo as recorded,
    when ``image`` is an enhanced copy (exposure is read there), at ``original_scale`` times
    the resolution of ``image``. The photo's frame is ``image``'s.
    """
    gray, k = face_gray(image, landmarks)
    # Area averaging over 1/k x 1/k photo pixels divides white noise's sigma by 1/k.
    noise = photo_noise(image, landmarks)
    sharp = sharpness(denoise(gray, noise * min(k, 1.0)))
    if original is not None:
        ogray, _ = face_gray(original, np.asarray(landmarks, np.float64) * original_scale)
    else:
        ogray = gray
    mean, high = exposure(ogray)
    out = outside_share(landmarks, image.shape[1], image.shape[0])
    return FaceQuality(sharpness=sharp, noise=noise, brightness=mean, highlight=high, outside_share=out,
                       face_scale=k)
