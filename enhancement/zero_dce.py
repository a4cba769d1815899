"""Zero-DCE++ (Li, Guo, Loy, TPAMI 2021): a tiny curve-estimation network.

The network looks at a downscaled copy of the photo and predicts, per pixel and channel, one
curve parameter ``alpha`` in [-1, 1]; the light-enhancement curve
``LE(x) = x + alpha * x * (1 - x)`` is applied ``ITERATIONS`` times with the same map.

Applying the eight curve steps at full resolution in float32 is what makes the published
implementation slow (about 3.7 s per 12 MP photo on one core). Here the alpha map, which is
smooth by construction (the illumination-smoothness loss), is sampled on a grid of tiles; the
eight steps are composed once into a 256-entry lookup table per tile and channel, and the
photo is mapped tile by tile with ``cv2.LUT`` in uint8. ``reference_apply`` is the faithful
float implementation the fast path is tested against.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

import cv2
import numpy as np
import torch
from torch import nn
from torch.nn import functional as F  # noqa: N812

from enhancement.assess import downscale
from enhancement.base import check_image

CODE_VERSION = "2026.11.1"
ITERATIONS = 8
WEIGHTS_PATH = Path(__file__).resolve().parent / "weights" / "zero_dce_pp.pt"
#: The same network exported by the training script; this is what inference runs
#: (onnxruntime runs these depthwise convolutions several times faster than torch on one core).
ONNX_PATH = WEIGHTS_PATH.with_suffix(".onnx")
#: Curves are estimated on a copy whose long side is at most this many pixels.
ESTIMATE_SIZE = 256
#: The photo is cut into about this many tiles along its long side (at least 2 px each); the
#: pixels of a tile share one lookup table per channel. On a 12 MP photo that is 63 px tiles,
#: four samples of a 256 px alpha map, across which the trained alpha barely moves.
TILES_LONG_SIDE = 64
MIN_TILE = 2
#: Gaussian smoothing (sigma, in pixels of the estimation copy) of the predicted alpha map.
#: The eight composed steps make the output very sensitive to alpha in the shadows (d out /
#: d alpha reaches hundreds of levels per unit), so alpha edges would show as tile steps;
#: smoothing keeps the tiled application within a few levels of the exact one.
ALPHA_SIGMA = 3.0
#: Levels of alpha in the precomputed table of composed curves (step 2/1023 ~ 0.002).
ALPHA_LEVELS = 1024


class _DepthwiseSeparable(nn.Module):
    def __init__(self, in_ch: int, out_ch: int) -> None:
        super().__init__()
        self.depth_conv = nn.Conv2d(in_ch, in_ch, 3, 1, 1, groups=in_ch)
        self.point_conv = nn.Conv2d(in_ch, out_ch, 1, 1, 0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.point_conv(self.depth_conv(x))


class ZeroDCEPP(nn.Module):
    """The seven-layer curve estimator of Zero-DCE++ (32 channels, symmetric skip
    concatenations). ``forward`` maps an RGB batch in [0, 1] to alpha maps in [-1, 1] of the
    same size; the caller chooses the size (the downscaled photo)."""

    def __init__(self, width: int = 32) -> None:
        super().__init__()
        self.e_conv1 = _DepthwiseSeparable(3, width)
        self.e_conv2 = _DepthwiseSeparable(width, width)
        self.e_conv3 = _DepthwiseSeparable(width, width)
        self.e_conv4 = _DepthwiseSeparable(width, width)
        self.e_conv5 = _DepthwiseSeparable(width * 2, width)
        self.e_conv6 = _DepthwiseSeparable(width * 2, width)
        self.e_conv7 = _DepthwiseSeparable(width * 2, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x1 = F.relu(self.e_conv1(x))
        x2 = F.relu(self.e_conv2(x1))
        x3 = F.relu(self.e_conv3(x2))
        x4 = F.relu(self.e_conv4(x3))
        x5 = F.relu(self.e_conv5(torch.cat([x3, x4], 1)))
        x6 = F.relu(self.e_conv6(torch.cat([x2, x5], 1)))
        return torch.tanh(self.e_conv7(torch.cat([x1, x6], 1)))


def apply_curves(x: torch.Tensor, alpha: torch.Tensor, iterations: int = ITERATIONS) -> torch.Tensor:
    """``iterations`` steps of LE(x) = x + alpha * x * (1 - x); differentiable (training)."""
    for _ in range(iterations):
        x = x + alpha * x * (1.0 - x)
    return x


def reference_apply(rgb: np.ndarray, alpha_low: np.ndarray, iterations: int = ITERATIONS) -> np.ndarray:
    """The published way: upsample alpha bilinearly to full resolution and run the curve steps
    in float32 torch on every pixel. Slow; the ground truth for ``fast_apply``."""
    h, w = rgb.shape[:2]
    x = torch.from_numpy(rgb).permute(2, 0, 1)[None].float() / 255.0
    a = torch.from_numpy(np.ascontiguousarray(alpha_low.transpose(2, 0, 1)))[None].float()
    a = F.interpolate(a, size=(h, w), mode="bilinear", align_corners=False)
    y = apply_curves(x, a, iterations)
    out = (y.clamp(0, 1) * 255.0).round().to(torch.uint8)
    return out[0].permute(1, 2, 0).contiguous().numpy()


@cache
def curve_table(levels: int = ALPHA_LEVELS, iterations: int = ITERATIONS) -> np.ndarray:
    """uint8 table (levels, 256): the composed curve for alpha = -1 + 2 k / (levels - 1)."""
    alpha = np.linspace(-1.0, 1.0, levels)[:, None]
    x = np.arange(256, dtype=np.float64)[None, :] / 255.0
    for _ in range(iterations):
        x = x + alpha * x * (1.0 - x)
    return np.clip(np.round(x * 255.0), 0, 255).astype(np.uint8)


def tile_size(h: int, w: int) -> int:
    return max(MIN_TILE, -(-max(h, w) // TILES_LONG_SIDE))


def fast_apply(rgb: np.ndarray, alpha_low: np.ndarray, *, tile: int | None = None,
               iterations: int = ITERATIONS) -> np.ndarray:
    """Apply the curves of ``alpha_low`` (h, w, 3 float, any size) to the full-size uint8
    ``rgb``: alpha is sampled at the centre of every ``tile`` x ``tile`` block (default
    ``tile_size``) and each block goes through its own three 256-entry lookup tables."""
    h, w = rgb.shape[:2]
    tile = tile or tile_size(h, w)
    gh, gw = -(-h // tile), -(-w // tile)
    # cv2.resize with half-pixel centres samples the (bilinear) alpha field at tile centres.
    a = cv2.resize(alpha_low.astype(np.float32), (gw, gh), interpolation=cv2.INTER_LINEAR)
    if a.ndim == 2:
        a = a[:, :, None]
    levels = ALPHA_LEVELS
    idx = np.clip(np.rint((a + 1.0) * (0.5 * (levels - 1))), 0, levels - 1).astype(np.intp)
    # (gh, gw, 3, 256) -> (gh, gw, 256, 3): one contiguous (256, 3) table per tile for cv2.LUT.
    luts = np.ascontiguousarray(curve_table(levels, iterations)[idx].transpose(0, 1, 3, 2))
    out = np.empty_like(rgb)
    for ty in range(gh):
        y0, y1 = ty * tile, min(h, (ty + 1) * tile)
        src_row, dst_row = rgb[y0:y1], out[y0:y1]
        lut_row = luts[ty]
        for tx in range(gw):
            x0, x1 = tx * tile, min(w, (tx + 1) * tile)
            dst_row[:, x0:x1] = cv2.LUT(src_row[:, x0:x1], lut_row[tx].reshape(1, 256, 3))
    return out


def weights_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:10]


def model_version(path: Path = ONNX_PATH) -> str:
    """Changes with the code and with the weights file."""
    return f"{CODE_VERSION}-{weights_digest(path)}"


def load_model(path: Path = WEIGHTS_PATH) -> ZeroDCEPP:
    """The PyTorch network (training, ONNX export, reference checks)."""
    if not path.exists():
        raise FileNotFoundError(f"Zero-DCE++ weights not found at {path}; train them with `python -m enhancement.train`")
    model = ZeroDCEPP()
    state = torch.load(path, map_location="cpu", weights_only=True)
    model.load_state_dict(state["model"] if "model" in state else state)
    model.eval()
    return model


class ZeroDCEEnhancer:
    """Zero-DCE++ with this project's weights (ONNX, run by onnxruntime); curves estimated on a
    copy whose long side is ``estimate_size``, applied at full resolution by ``fast_apply``.
    ``threads`` is onnxruntime's intra-op thread count (1: a worker handles one photo per core)."""

    model_id = "zero-dce++"

    def __init__(self, onnx_path: str | Path | None = None, estimate_size: int = ESTIMATE_SIZE,
                 tile: int | None = None, threads: int = 1, alpha_sigma: float = ALPHA_SIGMA) -> None:
        import onnxruntime as ort

        path = Path(onnx_path) if onnx_path else ONNX_PATH
        if not path.exists():
            raise FileNotFoundError(f"Zero-DCE++ ONNX weights not found at {path}; `python -m enhancement.train` writes them")
        options = ort.SessionOptions()
        options.intra_op_num_threads = int(threads)
        options.inter_op_num_threads = 1
        self._session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self.estimate_size = int(estimate_size)
        self.tile = tile
        self.alpha_sigma = float(alpha_sigma)
        self.weights_path = path
        self.version = model_version(path)

    def small(self, image: np.ndarray) -> np.ndarray:
        """The downscaled copy the curves are estimated on."""
        return downscale(image, self.estimate_size)

    def alpha(self, image: np.ndarray) -> np.ndarray:
        """The curve-parameter map (h, w, 3) float32 estimated on the downscaled image, smoothed
        by ``alpha_sigma``; ``reference_apply(image, alpha)`` is the exact output."""
        check_image(image)
        small = self.small(image)
        x = np.ascontiguousarray(small.transpose(2, 0, 1)[None], dtype=np.float32) * np.float32(1.0 / 255.0)
        (alpha,) = self._session.run(None, {"rgb": x})
        alpha = np.ascontiguousarray(alpha[0].transpose(1, 2, 0))
        if self.alpha_sigma > 0:
            alpha = cv2.GaussianBlur(alpha, (0, 0), self.alpha_sigma, borderType=cv2.BORDER_REPLICATE)
        return alpha

    def enhance(self, image: np.ndarray) -> np.ndarray:
        check_image(image)
        return fast_apply(image, self.alpha(image), tile=self.tile)

