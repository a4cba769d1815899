"""Per-group results of a trained model, through the evaluation's machinery (``ml.metrics``):
the same groups, Wilson intervals, subject bootstrap, minimum group size and summary rows."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ml.metrics._boot import boot_group_sums, safe_ratio
from ml.metrics.fairness import gn_score, worst_best_ratio
from ml.metrics.groups import (
    SUMMARY,
    GroupSpec,
    MetricRow,
    default_specs,
    explode,
    group_codes,
    make_row,
    subject_codes,
)
from ml.metrics.intervals import percentile_interval, subject_weights, wilson


def rate_metrics(success: np.ndarray, labels: Sequence[dict[str, Any]], subjects: Sequence[str], *, metric: str,
                 error_metric: str, min_group_size: int = 30, specs: Sequence[GroupSpec] | None = None,
                 n_boot: int = 200, seed: int = 0) -> list[MetricRow]:
    """Rows per group: ``metric`` (share of successes, e.g. accuracy or face recall) and
    ``error_metric`` (1 − it: error rate, miss rate), each with its Wilson interval; per category
    (value ``*``) over the groups of at least ``min_group_size`` photos: ``<metric>_gap`` (best −
    worst), ``gn_score`` (mean − gap; with two groups the gender-neutral score
    mean(acc_1, acc_2) − |acc_1 − acc_2|) and ``<error_metric>_ratio`` (worst / best), with
    subject-bootstrap intervals."""
    ok = np.asarray(success, dtype=bool)
    subj_codes, n_subj = subject_codes(subjects)
    weights = subject_weights(n_subj, n_boot, seed)
    rows: list[MetricRow] = []
    for spec in specs or default_specs():
        idx, vals = explode(labels, spec)
        if idx.size == 0:
            continue
        groups, codes = group_codes(vals)
        k = np.bincount(codes, weights=ok[idx].astype(float), minlength=len(groups)).astype(int)
        n = np.bincount(codes, minlength=len(groups)).astype(int)
        for g, kg, ng in zip(groups, k, n, strict=True):
            lo, hi = wilson(int(kg), int(ng))
            rows.append(make_row(spec.category, g, metric, kg / ng, int(ng), (lo, hi), min_group_size))
            rows.append(make_row(spec.category, g, error_metric, 1 - kg / ng, int(ng), (1 - hi, 1 - lo),
                                 min_group_size))
        sufficient = [i for i in range(len(groups)) if n[i] >= min_group_size]
        if spec.is_overall or len(sufficient) < 2:
            continue
        rates = (k / n)[sufficient]
        num, den = boot_group_sums(lambda lo, hi, s=subj_codes[idx]: weights[:, s[lo:hi]], ok[idx].astype(float),
                                   codes, len(groups), n_boot)
        boot = safe_ratio(num, den)[:, sufficient]
        n_total = int(n[sufficient].sum())
        with np.errstate(invalid="ignore"):
            b_gap = np.nanmax(boot, axis=1) - np.nanmin(boot, axis=1)
            b_gn = np.nanmean(boot, axis=1) - b_gap
        b_ratio = np.array([worst_best_ratio(1 - r[~np.isnan(r)]) for r in boot])
        rows.append(make_row(spec.category, SUMMARY, f"{metric}_gap", float(rates.max() - rates.min()), n_total,
                             percentile_interval(b_gap), 0))
        rows.append(make_row(spec.category, SUMMARY, "gn_score", gn_score(rates), n_total,
                             percentile_interval(b_gn), 0))
        rows.append(make_row(spec.category, SUMMARY, f"{error_metric}_ratio", worst_best_ratio(1 - rates), n_total,
                             percentile_interval(b_ratio), 0))
    return rows


def specs_for(categories: Sequence[str]) -> list[GroupSpec]:
    """The evaluation's default groupings limited to the categories this snapshot has."""
    have = set(categories)
    return [s for s in default_specs() if all(p in have for p in s.parts)]


def find(rows: Sequence[MetricRow], *, category: str, value: str, metric: str) -> MetricRow | None:
    return next((r for r in rows if r.category == category and r.value == value and r.metric == metric), None)


def table(rows: Sequence[MetricRow], *, metric: str, category: str) -> list[MetricRow]:
    return [r for r in rows if r.metric == metric and r.category == category]


def difference_interval(k1: int, n1: int, k2: int, n2: int) -> tuple[float, float, float]:
    """p1 − p2 with Newcombe's hybrid score interval (Newcombe 1998, method 10), built from the
    two Wilson intervals. It treats the two proportions as independent, which is conservative
    when both runs were measured on the same test photos (their errors correlate)."""
    if n1 <= 0 or n2 <= 0:
        return (float("nan"), float("nan"), float("nan"))
    p1, p2 = k1 / n1, k2 / n2
    l1, u1 = wilson(k1, n1)
    l2, u2 = wilson(k2, n2)
    d = p1 - p2
    lo = d - float(np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2))
    hi = d + float(np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2))
    return (d, max(-1.0, lo), min(1.0, hi))
