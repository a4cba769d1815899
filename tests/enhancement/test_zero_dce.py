import numpy as np
import pytest
import torch
from skimage import data

from enhancement.zero_dce import (
    ONNX_PATH,
    WEIGHTS_PATH,
    apply_curves,
    curve_table,
    fast_apply,
    load_model,
    reference_apply,
    weights_digest,
)
from ml.registry import create_model


def smooth_alpha(h: int, w: int, seed: int = 0) -> np.ndarray:
    """A smooth alpha field of the kind the enhancer produces (network output, then Gaussian
    smoothing): it varies by ~0.15 across the image, as the trained one does on real photos."""
    import cv2

    rng = np.random.default_rng(seed)
    coarse = rng.uniform(0.2, 0.35, (3, 4, 3)).astype(np.float32)
    return cv2.resize(coarse, (w, h), interpolation=cv2.INTER_LINEAR).clip(-1, 1)


def test_curve_table_matches_the_iterated_curve():
    table = curve_table()
    x = torch.arange(256, dtype=torch.float64) / 255.0
    for k in (0, 300, 511, 767, 1023):
        alpha = torch.tensor(-1 + 2 * k / 1023, dtype=torch.float64)
        ref = (apply_curves(x, alpha) * 255).round().clamp(0, 255).numpy().astype(int)
        assert np.abs(table[k].astype(int) - ref).max() <= 1


@pytest.mark.parametrize("shape", [(300, 400), (257, 131), (64, 64)])
def test_fast_application_equals_reference_torch_application(shape):
    rng = np.random.default_rng(1)
    img = (data.astronaut()[: shape[0], : shape[1]].astype(np.float32) * rng.uniform(0.05, 0.3)).astype(np.uint8)
    img = np.ascontiguousarray(img)
    alpha = smooth_alpha(48, 64)
    ref = reference_apply(img, alpha)
    fast = fast_apply(img, alpha)
    diff = np.abs(fast.astype(int) - ref.astype(int))
    # Tolerance: a mean under one grey level, 99 % of values within 6 levels (the tiles take
    # alpha at their centres; the exact per-pixel alpha is the tile=1 case below).
    assert diff.mean() < 1.0, diff.mean()
    assert np.percentile(diff, 99) <= 6, np.percentile(diff, 99)
    assert np.abs(fast_apply(img, alpha, tile=1).astype(int) - ref.astype(int)).max() <= 1


def test_fast_application_with_the_committed_network_stays_close_to_the_reference():
    """On the real alpha of a dark photo: the tiled lookup is within a few levels of the exact
    float application almost everywhere (the largest gaps sit where alpha changes fastest)."""
    enh = create_model("zero-dce++")
    img = np.ascontiguousarray((data.astronaut().astype(np.float32) * 0.12).astype(np.uint8))
    alpha = enh.alpha(img)
    diff = np.abs(enh.enhance(img).astype(int) - reference_apply(img, alpha).astype(int))
    assert diff.mean() < 1.0, diff.mean()
    assert np.percentile(diff, 99) <= 6, np.percentile(diff, 99)


def test_fast_application_is_exact_for_constant_alpha():
    img = data.astronaut()
    alpha = np.full((10, 10, 3), 0.6, np.float32)
    alpha[..., 2] = -0.3
    diff = np.abs(fast_apply(img, alpha).astype(int) - reference_apply(img, alpha).astype(int))
    assert diff.max() <= 1


def test_committed_weights_load_and_are_small():
    assert WEIGHTS_PATH.stat().st_size < 200_000 and ONNX_PATH.stat().st_size < 200_000
    model = load_model()
    assert sum(p.numel() for p in model.parameters()) < 20_000


def test_onnx_matches_pytorch():
    import onnxruntime as ort

    model = load_model()
    x = torch.from_numpy(data.astronaut()[::4, ::4].copy()).permute(2, 0, 1)[None].float() / 255.0 * 0.1
    with torch.inference_mode():
        ref = model(x).numpy()
    sess = ort.InferenceSession(str(ONNX_PATH), providers=["CPUExecutionProvider"])
    (out,) = sess.run(None, {"rgb": x.numpy()})
    assert np.abs(out - ref).max() < 1e-4


def test_committed_weights_brighten_a_dark_photo_and_keep_a_lit_one_reasonable():
    enh = create_model("zero-dce++")
    assert enh.version.endswith(weights_digest(ONNX_PATH))
    img = data.astronaut()
    dark = (img.astype(np.float32) * 0.08).astype(np.uint8)
    out = enh.enhance(dark)
    assert out.mean() > 2.5 * dark.mean()
    # The alpha map is smooth (illumination-smoothness loss), which the fast path relies on.
    alpha = enh.alpha(dark)
    assert np.abs(np.diff(alpha, axis=0)).mean() < 0.05 and np.abs(np.diff(alpha, axis=1)).mean() < 0.05
    lit = enh.enhance(img)
    assert lit.mean() < 230  # does not wash a well-lit photo out
