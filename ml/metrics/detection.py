"""Detection rate per group, on the original and on the enhanced photo.

A photo counts as detected when the detector returns a confident face (score ≥ ``min_score``)
that overlaps the validated face box with IoU ≥ 0.5 (the PASCAL VOC criterion). For photos
without a validated box (external collections, which show exactly one face) the rule is
"exactly one face expected": the largest confident detection is taken as that face, so the
photo counts as detected when there is any confident detection. This cannot tell a false
positive from the face, which is why contributions, whose box was validated at ingest, use the
IoU rule.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ml.metrics._boot import boot_group_sums, safe_ratio
from ml.metrics.fairness import gn_score
from ml.metrics.groups import (
    SUMMARY,
    GroupSpec,
    MetricRow,
    binary_frame,
    default_specs,
    explode,
    group_codes,
    make_row,
    multi_frame,
    subject_codes,
)
from ml.metrics.intervals import percentile_interval, subject_weights, wilson

IOU_THRESHOLD = 0.5


def iou(a: Sequence[float], b: Sequence[float]) -> float:
    """Intersection over union of two (x1, y1, x2, y2) boxes; 0 when either is empty."""
    ax1, ay1, ax2, ay2 = (float(v) for v in a)
    bx1, by1, bx2, by2 = (float(v) for v in b)
    iw = max(0.0, min(ax2, bx2) - max(ax1, bx1))
    ih = max(0.0, min(ay2, by2) - max(ay1, by1))
    inter = iw * ih
    union = max(0.0, ax2 - ax1) * max(0.0, ay2 - ay1) + max(0.0, bx2 - bx1) * max(0.0, by2 - by1) - inter
    return inter / union if union > 0 else 0.0


def _area(box: Sequence[float]) -> float:
    return max(0.0, float(box[2]) - float(box[0])) * max(0.0, float(box[3]) - float(box[1]))


def matched_face(detections: Sequence[dict[str, Any]], face_box: Sequence[float] | None, *,
                 min_score: float, iou_threshold: float = IOU_THRESHOLD) -> dict[str, Any] | None:
    """The detection that stands for the face, or None when the face was missed.

    With ``face_box``: the confident detection of highest IoU, if that IoU ≥ ``iou_threshold``.
    Without: the largest confident detection (exactly one face expected)."""
    confident = [d for d in detections if float(d.get("score", 0.0)) >= min_score]
    if not confident:
        return None
    if face_box is None:
        return max(confident, key=lambda d: _area(d["box"]))
    best = max(confident, key=lambda d: iou(d["box"], face_box))
    return best if iou(best["box"], face_box) >= iou_threshold else None


RATE_METRICS = {"k": lambda t, p, w: float(np.sum(w * p)), "k_true": lambda t, p, w: float(np.sum(w * t)),
                "n": lambda t, p, w: float(np.sum(w))}


def _rate_frame(y_true: np.ndarray, y_pred: np.ndarray, groups: np.ndarray) -> pd.DataFrame:
    """Per group: k = sum(y_pred), n = rows, and k_true = sum(y_true) (fairlearn groups the rows)."""
    return binary_frame(groups, y_true, y_pred, RATE_METRICS)


def proportion_metrics(success: np.ndarray, labels: Sequence[dict[str, Any]], *, metric: str, min_group_size: int,
                       specs: Sequence[GroupSpec] | None = None) -> list[MetricRow]:
    """A plain proportion (e.g. failure to enrol) per group, with Wilson intervals."""
    success = np.asarray(success, dtype=bool)
    rows: list[MetricRow] = []
    for spec in specs or default_specs():
        idx, vals = explode(labels, spec)
        if idx.size == 0:
            continue
        frame = _rate_frame(success[idx].astype(float), success[idx].astype(float), vals)
        for value, k_f, n_f in zip(frame.index, frame["k"].to_numpy(dtype=float), frame["n"].to_numpy(dtype=float),
                                   strict=True):
            k, n = int(k_f), int(n_f)
            rows.append(make_row(spec.category, str(value), metric, k / n, n, wilson(k, n), min_group_size))
    return rows


def detection_metrics(hits: np.ndarray, labels: Sequence[dict[str, Any]], subjects: Sequence[str], *,
                      enhanced_hits: np.ndarray | None = None, min_group_size: int = 30,
                      specs: Sequence[GroupSpec] | None = None, n_boot: int = 200, seed: int = 0) -> list[MetricRow]:
    """Rows per group:

    - ``detection_rate``: share of photos whose face was found on the original (Wilson CI);
    - on the photos that have an enhanced copy (``enhanced_hits`` not NaN):
      ``detection_rate_lowlight_original``, ``detection_rate_enhanced`` (Wilson) and
      ``enhancement_effect`` = enhanced − original, paired, with a subject-bootstrap CI;
    - per category (value ``*``): ``detection_gap`` (best − worst sufficient group) and
      ``gn_score`` (mean rate − gap) with subject-bootstrap CIs.

    ``hits``: bool per photo; ``enhanced_hits``: 1.0/0.0 per photo, NaN where there is no
    enhanced copy; ``subjects``: the person behind each photo (the bootstrap unit).
    """
    hits = np.asarray(hits, dtype=bool)
    n_photos = hits.size
    enh = np.full(n_photos, np.nan) if enhanced_hits is None else np.asarray(enhanced_hits, dtype=float)
    has_enh = ~np.isnan(enh)
    subj_codes, n_subj = subject_codes(subjects)
    weights = subject_weights(n_subj, n_boot, seed)
    rows: list[MetricRow] = []

    exploded = [(spec, *explode(labels, spec)) for spec in specs or default_specs()]
    exploded = [(spec, idx, vals) for spec, idx, vals in exploded if idx.size]
    frames = multi_frame([(vals, np.ones(idx.size, np.int64), hits[idx]) for _, idx, vals in exploded], 2, RATE_METRICS)
    e_blocks = [(vals[has_enh[idx]], hits[idx][has_enh[idx]], enh[idx][has_enh[idx]]) for _, idx, vals in exploded
                if has_enh[idx].any()]
    e_frames = iter(multi_frame(e_blocks, 2, RATE_METRICS))
    for (spec, idx, vals), frame in zip(exploded, frames, strict=True):
        cat = spec.category
        groups, codes = group_codes(vals, frame.index)
        sufficient = []
        ks, ns = frame["k"].to_numpy(dtype=float), frame["n"].to_numpy(dtype=float)
        for g, k_f, n_f in zip(groups, ks, ns, strict=True):
            k, n = int(k_f), int(n_f)
            rows.append(make_row(cat, g, "detection_rate", k / n, n, wilson(k, n), min_group_size))
            if n >= min_group_size:
                sufficient.append(groups.index(g))

        # Paired original vs enhanced on the photos that have an enhanced copy.
        sel = has_enh[idx]
        if sel.any():
            e_frame = next(e_frames)
            e_groups, e_codes = group_codes(vals[sel], e_frame.index)
            diff = enh[idx][sel] - hits[idx][sel].astype(float)
            e_subj = subj_codes[idx][sel]
            num, den = boot_group_sums(lambda lo, hi, s=e_subj: weights[:, s[lo:hi]], diff, e_codes,
                                       len(e_groups), n_boot)
            boot_diff = safe_ratio(num, den)
            cols = [e_frame[c].to_numpy(dtype=float).astype(int) for c in ("n", "k_true", "k")]
            for gi, (g, n, k_o, k_e) in enumerate(zip(e_groups, *cols, strict=True)):
                rows.append(make_row(cat, g, "detection_rate_lowlight_original", k_o / n, n, wilson(k_o, n),
                                     min_group_size))
                rows.append(make_row(cat, g, "detection_rate_enhanced", k_e / n, n, wilson(k_e, n), min_group_size))
                rows.append(make_row(cat, g, "enhancement_effect", (k_e - k_o) / n, n,
                                     percentile_interval(boot_diff[:, gi]), min_group_size))

        if spec.is_overall or len(sufficient) < 2:
            continue
        rates = (frame["k"] / frame["n"]).to_numpy()[sufficient]
        num, den = boot_group_sums(lambda lo, hi, s=subj_codes[idx]: weights[:, s[lo:hi]],
                                   hits[idx].astype(float), codes, len(groups), n_boot)
        boot = safe_ratio(num, den)[:, sufficient]
        n_total = int(frame["n"].to_numpy()[sufficient].sum())
        with np.errstate(invalid="ignore"):
            boot_gap = np.nanmax(boot, axis=1) - np.nanmin(boot, axis=1)
            boot_gn = np.nanmean(boot, axis=1) - boot_gap
        rows.append(make_row(cat, SUMMARY, "detection_gap", float(rates.max() - rates.min()), n_total,
                             percentile_interval(boot_gap), 0))
        rows.append(make_row(cat, SUMMARY, "gn_score", gn_score(rates), n_total, percentile_interval(boot_gn), 0))
    return rows
