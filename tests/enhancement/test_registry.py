import json

import numpy as np
import pytest
from skimage import data

from enhancement import Enhancer, LowLightReport, assess
from ml.registry import create_model, list_models


@pytest.fixture(scope="module")
def dark_image() -> np.ndarray:
    return (data.astronaut()[::4, ::4].astype(np.float32) * 0.08).astype(np.uint8)


def test_registry_lists_the_required_enhancers():
    assert {"zero-dce++", "clahe", "gamma"} <= set(list_models("enhancer"))


def test_unknown_enhancer_is_a_key_error():
    with pytest.raises(KeyError, match="registered"):
        create_model("no-such-enhancer")


@pytest.mark.parametrize("name", list_models("enhancer"))
def test_every_enhancer_keeps_shape_and_dtype_and_brightens(name, dark_image):
    enh = create_model(name)
    assert isinstance(enh, Enhancer)
    assert isinstance(enh.model_id, str) and enh.model_id
    assert isinstance(enh.version, str) and enh.version
    odd = np.ascontiguousarray(dark_image[:101, :77])  # sizes that are not multiples of any tile
    for img in (dark_image, odd):
        out = enh.enhance(img)
        assert out.shape == img.shape and out.dtype == np.uint8
        assert out.mean() > img.mean() + 5


@pytest.mark.parametrize("name", list_models("enhancer"))
@pytest.mark.parametrize("bad", [np.zeros((10, 10), np.uint8), np.zeros((10, 10, 3), np.float32),
                                 np.zeros((10, 10, 4), np.uint8)])
def test_enhancers_reject_non_rgb_uint8(name, bad):
    with pytest.raises(ValueError, match="RGB uint8"):
        create_model(name).enhance(bad)


def test_assess_dark_and_bright():
    img = data.astronaut()
    bright = assess(img)
    dark = assess((img.astype(np.float32) * 0.1).astype(np.uint8))
    assert isinstance(bright, LowLightReport)
    assert not bright.is_low_light and dark.is_low_light
    assert dark.mean < 0.1 < bright.mean
    assert 0 <= dark.p05 <= dark.median <= dark.p95 <= 1
    assert dark.dark_fraction > 0.9 and bright.dark_fraction < 0.5
    d = bright.as_dict()
    assert json.loads(json.dumps(d)) == d
    assert d["is_low_light"] is False and d["width"] == 512


def test_assess_thresholds_are_parameters():
    img = data.astronaut()
    assert assess(img, mean_threshold=0.9).is_low_light
    assert not assess((img * 0.1).astype(np.uint8), mean_threshold=0.0, dark_fraction_threshold=1.0,
                      p95_threshold=0.0).is_low_light


def test_assess_is_stable_under_reduction():
    """Callers may pass a reduced image (JPEG draft mode): the statistics barely move."""
    img = data.astronaut()
    full, small = assess(img), assess(np.ascontiguousarray(img[::4, ::4]))
    assert abs(full.mean - small.mean) < 0.02 and full.is_low_light == small.is_low_light


def test_assess_noise_estimate_grows_with_noise():
    rng = np.random.default_rng(0)
    flat = np.full((200, 300, 3), 60, np.uint8)
    noisy = np.clip(flat + rng.normal(0, 12, flat.shape), 0, 255).astype(np.uint8)
    assert assess(flat).noise_estimate < 0.002 < assess(noisy, work_size=300).noise_estimate


def test_assess_rejects_bad_input():
    with pytest.raises(ValueError):
        assess(np.zeros((5, 5), np.uint8))
