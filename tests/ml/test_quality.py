"""The face quality measures on generated images: sharp, blurred by known amounts, noisy,
compressed, rescaled, dark, cut off. The landmarks come from the real detector on scikit-image's
astronaut; every degraded copy is measured with the same landmarks, so only the pixels change."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from skimage import data

from enhancement.degrade import darken, jpeg_roundtrip
from facecommons.pipeline.analysis import Thresholds
from ml.quality import FACE_SCALE, face_gray, face_quality, outside_share
from ml.registry import create_model

T = Thresholds()


@pytest.fixture(scope="module")
def face() -> tuple[np.ndarray, np.ndarray, float]:
    """The astronaut, its five landmarks and its face box width."""
    img = data.astronaut()
    det = [d for d in create_model("retinaface-mobilenet").detect(img) if d.score >= 0.9]
    assert len(det) == 1
    x1, _, x2, _ = det[0].box
    return img, np.asarray(det[0].landmarks), float(x2 - x1)


def blur(img: np.ndarray, sigma: float) -> np.ndarray:
    return cv2.GaussianBlur(img, (0, 0), sigma) if sigma > 0 else img


def noisy(img: np.ndarray, sigma: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.clip(img + rng.normal(0, sigma, img.shape), 0, 255).astype(np.uint8)


def sharp_of(img: np.ndarray, lm: np.ndarray) -> float:
    return face_quality(img, lm).sharpness


def test_sharpness_falls_monotonically_with_blur_and_the_bar_sits_between(face):
    img, lm, width = face
    scores = [sharp_of(blur(img, f * width), lm) for f in (0.0, 0.01, 0.02, 0.04, 0.08)]
    assert all(a > b for a, b in zip(scores, scores[1:], strict=False)), scores
    assert scores[0] >= T.min_sharpness  # the sharp face is not soft
    assert scores[3] < T.min_sharpness and scores[4] < T.min_sharpness  # 4% and 8% are


@pytest.mark.parametrize("noise", [8.0, 16.0])
def test_noise_does_not_read_as_sharpness(face, noise):
    img, lm, width = face
    soft = blur(img, 0.04 * width)
    # Grain on a soft face: still soft (the Laplacian's variance would call it sharp).
    assert sharp_of(noisy(soft, noise), lm) < T.min_sharpness
    lap = cv2.Laplacian(cv2.cvtColor(noisy(soft, noise), cv2.COLOR_RGB2GRAY), cv2.CV_64F).var()
    lap_sharp = cv2.Laplacian(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY), cv2.CV_64F).var()
    assert lap > 0.3 * lap_sharp  # the old measure, for contrast: noise brings it near the sharp face's
    # Grain on a sharp face: still sharp.
    assert sharp_of(noisy(img, noise), lm) >= T.min_sharpness


def test_a_dark_noisy_soft_face_reads_soft_and_dark(face):
    img, lm, width = face
    rng = np.random.default_rng(3)
    dark_soft = darken(blur(img, 0.04 * width), rng, light=0.03)
    # Brightened the way a tone curve does (noise included), as the pipeline judges an enhanced copy.
    lut = np.clip((np.arange(256) / 255.0) ** 0.4 * 255, 0, 255).astype(np.uint8)
    q = face_quality(cv2.LUT(dark_soft, lut), lm, original=dark_soft)
    assert q.sharpness < T.min_sharpness and q.highlight < T.min_face_highlight
    dark_sharp = darken(img, np.random.default_rng(4), light=0.03)
    assert face_quality(cv2.LUT(dark_sharp, lut), lm, original=dark_sharp).sharpness >= T.min_sharpness


@pytest.mark.parametrize("quality", [20, 50])
def test_jpeg_blocking_is_not_detail(face, quality):
    img, lm, width = face
    soft = blur(img, 0.04 * width)
    assert sharp_of(jpeg_roundtrip(soft, quality), lm) < T.min_sharpness
    ref = sharp_of(img, lm)
    assert abs(sharp_of(jpeg_roundtrip(img, quality), lm) - ref) < 0.15 * ref


def test_resolution_does_not_change_the_measure_but_lost_detail_does(face):
    img, lm, _ = face
    ref = sharp_of(img, lm)
    up = cv2.resize(img, None, fx=3, fy=3, interpolation=cv2.INTER_CUBIC)  # a phone-size copy
    assert abs(sharp_of(up, lm * 3) - ref) < 0.1 * ref
    # The variance of the Laplacian, for contrast, falls many times over on the same pixels.
    gray = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
    lap_ratio = cv2.Laplacian(gray, cv2.CV_64F).var() / cv2.Laplacian(
        cv2.cvtColor(up, cv2.COLOR_RGB2GRAY), cv2.CV_64F).var()
    assert lap_ratio > 5
    # A face that was once tiny and then enlarged has no detail left to find: soft.
    tiny = cv2.resize(img, None, fx=1 / 8, fy=1 / 8, interpolation=cv2.INTER_AREA)
    enlarged = cv2.resize(tiny, (img.shape[1], img.shape[0]), interpolation=cv2.INTER_CUBIC)
    assert sharp_of(enlarged, lm) < T.min_sharpness


def test_small_face_is_measured_at_the_same_scale(face):
    img, lm, _ = face
    small = cv2.resize(img, None, fx=0.25, fy=0.25, interpolation=cv2.INTER_AREA)
    gray, k = face_gray(small, lm * 0.25)
    assert gray.shape == (FACE_SCALE, FACE_SCALE) and k > 1  # the face is smaller than the crop
    _, k_full = face_gray(img, lm)
    assert k == pytest.approx(k_full * 4, rel=1e-6)


def test_contrast_and_brightness_do_not_change_sharpness(face):
    img, lm, _ = face
    ref = sharp_of(img, lm)
    flat = (img.astype(np.float32) * 0.5 + 40).astype(np.uint8)
    assert abs(sharp_of(flat, lm) - ref) < 0.05 * ref


def test_exposure_reads_the_light_not_the_skin(face):
    img, lm, _ = face
    rng = np.random.default_rng(5)
    lit = face_quality(img, lm)
    assert lit.highlight >= T.min_face_highlight
    # Dark skin in ordinary light: the face's reflectance a fifth (linear), everything else lit.
    lin = (img / 255.0) ** 2.2
    x1, y1 = np.floor(lm.min(axis=0) - 40).astype(int)
    x2, y2 = np.ceil(lm.max(axis=0) + 40).astype(int)
    lin[y1:y2, x1:x2] *= 0.2
    dark_skin = (np.clip(lin, 0, 1) ** (1 / 2.2) * 255 + 0.5).astype(np.uint8)
    assert face_quality(dark_skin, lm).highlight >= T.min_face_highlight
    for light in (0.03, 0.015):
        assert face_quality(darken(img, rng, light=light), lm).highlight < T.min_face_highlight


def test_outside_share_of_a_cut_off_face(face):
    img, lm, width = face
    h, w = img.shape[:2]
    assert outside_share(lm, w, h) == 0.0
    x1 = int(lm[:, 0].min() - 0.25 * width)  # cut through the left cheek, about a third of the face
    cut_lm = lm - (x1 + width / 3, 0)
    share = outside_share(cut_lm, w - x1, h)
    assert share > T.max_outside_share
    assert face_quality(img[:, int(x1 + width / 3):], cut_lm).outside_share == pytest.approx(share)
