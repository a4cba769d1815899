"""Shared RetinaFace post-processing: prior boxes, decoding, NMS (NumPy).

Both RetinaFace variants (MobileNet-0.25 ONNX and ResNet-50 PyTorch) were trained with the
same prior layout (biubug6/Pytorch_Retinaface ``cfg``): min sizes [[16, 32], [64, 128],
[256, 512]] on strides [8, 16, 32], variances [0.1, 0.2], priors ordered by feature map,
then row, column and min size.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from ml.detectors.base import Detection

MIN_SIZES: tuple[tuple[int, int], ...] = ((16, 32), (64, 128), (256, 512))
STEPS: tuple[int, ...] = (8, 16, 32)
VARIANCE: tuple[float, float] = (0.1, 0.2)


@lru_cache(maxsize=32)
def prior_boxes(height: int, width: int) -> np.ndarray:
    """(N, 4) priors (cx, cy, w, h), normalised to the image size."""
    out = []
    for sizes, step in zip(MIN_SIZES, STEPS, strict=True):
        fh, fw = math.ceil(height / step), math.ceil(width / step)
        ys, xs = np.meshgrid(np.arange(fh), np.arange(fw), indexing="ij")
        cx = ((xs.ravel() + 0.5) * step / width).astype(np.float32)
        cy = ((ys.ravel() + 0.5) * step / height).astype(np.float32)
        per = []
        for s in sizes:
            per.append(np.stack([cx, cy, np.full_like(cx, s / width), np.full_like(cy, s / height)], axis=1))
        # interleave the sizes per location: (loc, size, 4) -> (loc*size, 4)
        out.append(np.stack(per, axis=1).reshape(-1, 4))
    priors = np.concatenate(out, axis=0)
    priors.setflags(write=False)
    return priors


def nms(boxes: np.ndarray, scores: np.ndarray, threshold: float) -> list[int]:
    """Greedy non-maximum suppression; returns kept indices, best score first."""
    x1, y1, x2, y2 = boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3]
    areas = np.maximum(0.0, x2 - x1 + 1) * np.maximum(0.0, y2 - y1 + 1)
    order = scores.argsort()[::-1]
    keep: list[int] = []
    while order.size:
        i = int(order[0])
        keep.append(i)
        xx1 = np.maximum(x1[i], x1[order[1:]])
        yy1 = np.maximum(y1[i], y1[order[1:]])
        xx2 = np.minimum(x2[i], x2[order[1:]])
        yy2 = np.minimum(y2[i], y2[order[1:]])
        inter = np.maximum(0.0, xx2 - xx1 + 1) * np.maximum(0.0, yy2 - yy1 + 1)
        iou = inter / (areas[i] + areas[order[1:]] - inter)
        order = order[1:][iou <= threshold]
    return keep


def decode_retinaface(loc: np.ndarray, conf: np.ndarray, landms: np.ndarray, *, width: int, height: int,
                      score_threshold: float = 0.5, nms_threshold: float = 0.4, top_k: int = 5000,
                      keep_top_k: int = 750) -> list[Detection]:
    """Turn one image's raw head outputs into detections in pixels of the network input.

    ``loc`` (N, 4), ``conf`` (N, 2) face probabilities after softmax, ``landms`` (N, 10)."""
    priors = prior_boxes(height, width)
    if priors.shape[0] != loc.shape[0]:
        raise ValueError(f"{loc.shape[0]} predictions for {priors.shape[0]} priors ({width}x{height})")
    scores = conf[:, 1]
    idx = np.flatnonzero(scores > score_threshold)
    if idx.size == 0:
        return []
    idx = idx[np.argsort(scores[idx])[::-1][:top_k]]
    p, lo, lm, sc = priors[idx], loc[idx].astype(np.float32), landms[idx].astype(np.float32), scores[idx]
    v0, v1 = VARIANCE
    centre = p[:, :2] + lo[:, :2] * v0 * p[:, 2:]
    size = p[:, 2:] * np.exp(lo[:, 2:] * v1)
    boxes = np.concatenate([centre - size / 2, centre + size / 2], axis=1) * np.array([width, height] * 2, np.float32)
    pts = (p[:, None, :2] + lm.reshape(-1, 5, 2) * v0 * p[:, None, 2:]) * np.array([width, height], np.float32)
    keep = nms(boxes, sc, nms_threshold)[:keep_top_k]
    return [Detection(box=tuple(float(v) for v in boxes[i]),  # type: ignore[arg-type]
                      score=float(sc[i]),
                      landmarks=tuple((float(x), float(y)) for x, y in pts[i]))
            for i in keep]
