"""The three workbench tasks: what each trains on, how it is thresholded on validation, and its
per-group test results. ``train(snapshot, cfg, hooks)`` is the one entry point."""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ml.metrics import ALL, MetricRow, make_pairs, pair_distances, threshold_at_fmr, verification_metrics, wilson
from ml.metrics.groups import make_row
from ml.metrics.verification import equal_error_rate
from ml.workbench.config import Hooks, TrainConfig, TrainResult
from ml.workbench.data import (
    Photo,
    Snapshot,
    SnapshotError,
    background_squares,
    cut,
    decode_rgb,
    face_crop,
    sample,
    square_around,
    to_tensor_layout,
)
from ml.workbench.nets import CategoryNet, CosFaceHead, EmbeddingNet, FaceBackgroundNet
from ml.workbench.results import rate_metrics, specs_for
from ml.workbench.train import fit, predict, set_threads

# Input size of the category and verification nets: 48 px keeps an epoch over a few thousand
# crops near a minute on two shared CPU cores (docs/benchmarks.md); the crops are 112 px.
CROP = 48


def _photo_rng(seed: int, photo: Photo) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(photo.sha256.encode())])


def _record(photos: Sequence[Photo]) -> list[dict[str, Any]]:
    return [{"path": p.path, "subject": p.subject, "labels": p.labels} for p in photos]


def _test_photos(snapshot: Snapshot, cfg: TrainConfig) -> list[Photo]:
    photos = [p for p in snapshot.split("test") if p.box is not None]
    if cfg.max_test_photos and len(photos) > cfg.max_test_photos:
        rng = np.random.default_rng(cfg.seed)
        photos = [photos[i] for i in sorted(rng.choice(len(photos), cfg.max_test_photos, replace=False))]
    return photos


def _splits(snapshot: Snapshot, cfg: TrainConfig) -> tuple[list[Photo], list[Photo], list[Photo]]:
    """Training and validation drawn by the policy (the developer of a skewed model validates on
    the same kind of data), the test split whole: every group is measured."""
    faces = {s: [p for p in snapshot.split(s) if p.box is not None] for s in ("train", "validation")}
    train = sample(faces["train"], cfg.policy, seed=cfg.seed)
    val = sample(faces["validation"], cfg.policy, seed=cfg.seed + 1)
    test = _test_photos(snapshot, cfg)
    if len(train) < 2:
        raise SnapshotError(f"the policy leaves {len(train)} training photo(s) with a face: nothing to train on")
    if not val:
        val = train[: max(1, len(train) // 10)]  # a tiny snapshot may have no validation photo of the kind
    if not test:
        raise SnapshotError("the test split has no photo with a face")
    return train, val, test


# --- face vs background ------------------------------------------------------------------------

def _fvb_arrays(snapshot: Snapshot, photos: Sequence[Photo], cfg: TrainConfig) -> tuple[np.ndarray, np.ndarray]:
    """Faces (square around the validated box) and background patches cut from the same photos
    away from the box, at the net's window size. Returns (faces, backgrounds)."""
    size = FaceBackgroundNet.window
    faces, bgs = [], []
    for p in photos:
        assert p.box is not None
        img = decode_rgb(snapshot.read(p.path))
        faces.append(cut(img, *square_around(p.box), size))
        rng = _photo_rng(cfg.seed, p)
        for sq in background_squares(img.shape[1], img.shape[0], p.box, count=cfg.backgrounds_per_photo, rng=rng):
            bgs.append(cut(img, *sq, size))
    return to_tensor_layout(faces), (to_tensor_layout(bgs) if bgs else np.zeros((0, 3, size, size), np.float32))


def _threshold_at_fpr(bg_scores: np.ndarray, target: float) -> float:
    """The lowest score threshold whose false-positive rate on ``bg_scores`` is ≤ target."""
    if bg_scores.size == 0:
        return 0.0
    s = np.sort(bg_scores)[::-1]
    allowed = int(np.floor(target * s.size))
    return float(s[allowed]) + 1e-6 if allowed < s.size else float(s[-1])


def face_vs_background(snapshot: Snapshot, cfg: TrainConfig, hooks: Hooks) -> TrainResult:
    train, val, test = _splits(snapshot, cfg)
    xf, xb = _fvb_arrays(snapshot, train, cfg)
    vf, vb = _fvb_arrays(snapshot, val, cfg)
    x = np.concatenate([xf, xb])
    y = np.concatenate([np.ones(len(xf), np.float32), np.zeros(len(xb), np.float32)])
    torch.manual_seed(cfg.seed)
    net = FaceBackgroundNet()
    mods = nn.ModuleDict({"net": net})
    pos_weight = torch.tensor(max(1.0, len(xb) / max(1, len(xf))))

    def step_loss(xb_: torch.Tensor, yb: torch.Tensor) -> torch.Tensor:
        return F.binary_cross_entropy_with_logits(net.logits(xb_), yb, pos_weight=pos_weight.to(xb_.device))

    def val_recall() -> float:
        tau = _threshold_at_fpr(predict(net, vb).reshape(-1), cfg.target_fpr)
        return float((predict(net, vf).reshape(-1) >= tau).mean())

    history = fit(mods, step_loss, x, y, cfg=cfg, hooks=hooks,
                  validate=lambda: (f"face recall at {cfg.target_fpr:g} background FPR", val_recall()))
    tau = _threshold_at_fpr(predict(net, vb).reshape(-1), cfg.target_fpr)
    tf, tb = _fvb_arrays(snapshot, test, cfg)
    hits = predict(net, tf).reshape(-1) >= tau
    fp = int((predict(net, tb).reshape(-1) >= tau).sum()) if len(tb) else 0
    rows = rate_metrics(hits, [p.labels for p in test], [p.subject for p in test], metric="face_recall",
                        error_metric="miss_rate", min_group_size=cfg.min_group_size,
                        specs=specs_for(snapshot.categories), n_boot=cfg.n_boot, seed=cfg.seed)
    rows.append(make_row(ALL, ALL, "background_false_positive_rate", fp / max(1, len(tb)), len(tb),
                         wilson(fp, len(tb)), cfg.min_group_size))
    meta = {"threshold_logit": tau, "window": FaceBackgroundNet.window, "stride": FaceBackgroundNet.stride,
            "target_fpr": cfg.target_fpr}
    summary = {"train_faces": len(xf), "train_backgrounds": len(xb), "validation_photos": len(val),
               "test_faces": len(tf), "test_backgrounds": len(tb), **meta}
    return TrainResult(cfg.task, rows, summary, history, _record(train),
                       {"state_dict": net.state_dict(), "meta": meta})


# --- category ----------------------------------------------------------------------------------

def _single_value(p: Photo, category: str) -> str | None:
    raw = p.labels.get(category)
    if isinstance(raw, list):
        if len(raw) > 1:
            raise SnapshotError(f"{category} is multi-valued ({p.path} lists {len(raw)} values): "
                                "the category task needs a single-valued category")
        raw = raw[0] if raw else None
    return None if raw in (None, "") else str(raw)


def _crops(snapshot: Snapshot, photos: Sequence[Photo], size: int = CROP) -> np.ndarray:
    out = []
    for p in photos:
        c = face_crop(snapshot, p, size)
        assert c is not None  # only photos with a face get here
        out.append(c)
    return to_tensor_layout(out) if out else np.zeros((0, 3, size, size), np.float32)


def category_task(snapshot: Snapshot, cfg: TrainConfig, hooks: Hooks) -> TrainResult:
    if cfg.category not in snapshot.categories:
        raise SnapshotError(f"the snapshot has no category {cfg.category!r}")
    train, val, test = _splits(snapshot, cfg)
    train = [p for p in train if _single_value(p, cfg.category) is not None]
    val = [p for p in val if _single_value(p, cfg.category) is not None]
    classes = sorted({v for p in train for v in [_single_value(p, cfg.category)] if v})
    if len(classes) < 2:
        raise SnapshotError(f"the training photos show {len(classes)} value(s) of {cfg.category}: need two or more")
    cls_index = {c: i for i, c in enumerate(classes)}
    test = [p for p in test if _single_value(p, cfg.category) is not None]
    unseen = sum(1 for p in test if _single_value(p, cfg.category) not in cls_index)
    x, vx = _crops(snapshot, train), _crops(snapshot, val)
    y = np.array([cls_index[_single_value(p, cfg.category) or ""] for p in train], np.int64)
    vy = np.array([cls_index.get(_single_value(p, cfg.category) or "", -1) for p in val], np.int64)
    torch.manual_seed(cfg.seed)
    net = CategoryNet(len(classes))

    def step_loss(xb: torch.Tensor, yb: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(net(xb), yb)

    def val_acc() -> tuple[str, float]:
        return "validation accuracy", float((predict(net, vx).argmax(1) == vy).mean()) if len(vx) else float("nan")

    history = fit(nn.ModuleDict({"net": net}), step_loss, x, y, cfg=cfg, hooks=hooks, validate=val_acc)
    tx = _crops(snapshot, test)
    pred = predict(net, tx).argmax(1)
    truth = np.array([cls_index.get(_single_value(p, cfg.category) or "", -1) for p in test])
    rows = rate_metrics(pred == truth, [p.labels for p in test], [p.subject for p in test], metric="accuracy",
                        error_metric="error_rate", min_group_size=cfg.min_group_size,
                        specs=specs_for(snapshot.categories), n_boot=cfg.n_boot, seed=cfg.seed)
    meta = {"category": cfg.category, "classes": classes, "input": CROP}
    summary = {"train_photos": len(train), "validation_photos": len(val), "test_photos": len(test),
               "test_values_unseen_in_training": unseen, **meta}
    return TrainResult(cfg.task, rows, summary, history, _record(train), {"state_dict": net.state_dict(), "meta": meta})


# --- verification ------------------------------------------------------------------------------

def _embed(net: nn.Module, x: np.ndarray) -> np.ndarray:
    return predict(net, x).astype(np.float32)


def _verify_rows(emb_val: np.ndarray, val: Sequence[Photo], emb_test: np.ndarray, test: Sequence[Photo], *,
                 metric: str, cfg: TrainConfig, categories: Sequence[str]) -> tuple[list[MetricRow], dict[str, Any]]:
    """Threshold on validation at the target FMR, then FMR/FNMR per group on test."""
    vp = make_pairs([p.subject for p in val], seed=cfg.seed)
    vd = pair_distances(emb_val, vp.a, vp.b, metric)
    tau, resolvable = threshold_at_fmr(vd[~vp.genuine], cfg.target_fmr) if vp.n_impostor else (float("nan"), False)
    tp = make_pairs([p.subject for p in test], seed=cfg.seed)
    td = pair_distances(emb_test, tp.a, tp.b, metric)
    rows, _ = verification_metrics(td, tp, [p.subject for p in test], [p.labels for p in test],
                                   thresholds={"target": tau}, min_group_size=cfg.min_group_size,
                                   specs=specs_for(categories), n_boot=cfg.n_boot, seed=cfg.seed)
    note = "" if resolvable else "target FMR not resolvable on validation: fewer than 1/target impostor pairs"
    rows.append(MetricRow(ALL, ALL, "threshold@target", tau, vp.n_impostor, None, None, False, note))
    return rows, {"threshold": tau, "threshold_resolvable": resolvable, "test_genuine_pairs": tp.n_genuine,
                  "test_impostor_pairs": tp.n_impostor}


def _dlib_embeddings(snapshot: Snapshot, photos: Sequence[Photo]) -> np.ndarray:
    from ml.detectors.base import Detection
    from ml.registry import create_model

    ver = create_model("dlib-resnet")
    out = []
    for p in photos:
        assert p.box is not None
        img = decode_rgb(snapshot.read(p.path))
        out.append(ver.embed(img, Detection(box=p.box, score=1.0, landmarks=p.landmarks or ())))
    return np.stack(out).astype(np.float32)


def verification(snapshot: Snapshot, cfg: TrainConfig, hooks: Hooks) -> TrainResult:
    train, val, test = _splits(snapshot, cfg)
    ids = sorted({p.subject for p in train})
    if len(ids) < 2:
        raise SnapshotError("verification needs at least two people in the training photos")
    id_index = {s: i for i, s in enumerate(ids)}
    x, vx = _crops(snapshot, train), _crops(snapshot, val)
    y = np.array([id_index[p.subject] for p in train], np.int64)
    torch.manual_seed(cfg.seed)
    net, head = EmbeddingNet(), CosFaceHead(128, len(ids))

    def step_loss(xb: torch.Tensor, yb: torch.Tensor) -> torch.Tensor:
        return head(net(xb), yb)

    def val_eer() -> tuple[str, float]:
        vp = make_pairs([p.subject for p in val], seed=cfg.seed)
        if vp.n_genuine == 0 or vp.n_impostor == 0:
            return "validation EER", float("nan")
        d = pair_distances(_embed(net, vx), vp.a, vp.b, "cosine")
        return "validation EER", equal_error_rate(d[vp.genuine], d[~vp.genuine])

    history = fit(nn.ModuleDict({"net": net, "head": head}), step_loss, x, y, cfg=cfg, hooks=hooks, validate=val_eer)
    tx = _crops(snapshot, test)
    rows, info = _verify_rows(_embed(net, vx), val, _embed(net, tx), test, metric="cosine", cfg=cfg,
                              categories=snapshot.categories)
    baseline: list[MetricRow] = []
    if cfg.baseline:
        baseline, binfo = _verify_rows(_dlib_embeddings(snapshot, val), val, _dlib_embeddings(snapshot, test), test,
                                       metric="euclidean", cfg=cfg, categories=snapshot.categories)
        info["baseline"] = {"model": "dlib-resnet (frozen)", **binfo}
    meta = {"input": CROP, "metric": "cosine", "threshold": info["threshold"], "dim": 128}
    summary = {"train_photos": len(train), "train_people": len(ids), "validation_photos": len(val),
               "test_photos": len(test), **info}
    return TrainResult(cfg.task, rows, summary, history, _record(train), {"state_dict": net.state_dict(), "meta": meta},
                       baseline_rows=baseline)


def train(snapshot: Snapshot, cfg: TrainConfig, hooks: Hooks | None = None) -> TrainResult:
    """Train ``cfg.task`` on ``snapshot`` and measure it per group on the test split.

    Raises ``SnapshotError`` when the snapshot cannot serve the task, ``Cancelled`` when the
    hooks ask to stop."""
    hooks = hooks or Hooks()
    set_threads(hooks.threads)
    if cfg.task == "face-vs-background":
        return face_vs_background(snapshot, cfg, hooks)
    if cfg.task == "category":
        return category_task(snapshot, cfg, hooks)
    return verification(snapshot, cfg, hooks)
