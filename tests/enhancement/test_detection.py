"""``enhancement.for_detection``: the smoothed copy of an enhanced photo that detectors see."""

import numpy as np
import pytest
from skimage import data

from enhancement import DETECTION_SIGMA, for_detection
from enhancement.degrade import darken
from ml.registry import create_model


def test_keeps_shape_dtype_and_geometry():
    img = data.astronaut()
    out = for_detection(img)
    assert out.shape == img.shape and out.dtype == np.uint8
    assert out is not img and not np.shares_memory(out, img)
    # Smoothing moves no content: the brightest region stays where it was, the mean stays put.
    assert abs(float(out.mean()) - float(img.mean())) < 0.5


def test_sigma_zero_is_the_identity():
    img = data.astronaut()
    assert for_detection(img, 0) is img
    assert DETECTION_SIGMA > 0


def test_reduces_amplified_noise():
    rng = np.random.default_rng(0)
    flat = np.full((200, 300, 3), 120.0) + rng.normal(0.0, 20.0, (200, 300, 3))
    noisy = np.clip(flat, 0, 255).astype(np.uint8)
    out = for_detection(noisy)
    assert out[20:-20, 20:-20].std() < noisy[20:-20, 20:-20].std() / 3


@pytest.mark.parametrize("bad", [np.zeros((10, 10), np.uint8), np.zeros((10, 10, 3), np.float32),
                                 np.zeros((10, 10, 4), np.uint8), "not an image"])
def test_rejects_what_is_not_rgb_uint8(bad):
    with pytest.raises(ValueError, match="RGB uint8"):
        for_detection(bad)


def test_detector_is_more_confident_on_the_smoothed_enhanced_copy():
    """The astronaut at 0.5% light with shot and read noise: brightened alone, its noise costs
    RetinaFace confidence; smoothed as the pipeline does, the face is found with more."""

    detector = create_model("retinaface-mobilenet", score_threshold=0.3)
    enhancer = create_model("zero-dce++")
    plain, smoothed = [], []
    for seed in range(3):
        dark = darken(data.astronaut(), np.random.default_rng(seed), light=0.005, photons=400.0,
                      read_sigma=0.002, jpeg_quality=85)
        enhanced = enhancer.enhance(dark)
        plain.append(max((d.score for d in detector.detect(enhanced)), default=0.0))
        smoothed.append(max((d.score for d in detector.detect(for_detection(enhanced))), default=0.0))
    assert min(smoothed) >= 0.99, smoothed
    assert np.mean(smoothed) > np.mean(plain), (plain, smoothed)
