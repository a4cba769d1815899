"""Demographic groups of photos and of pairs, and the result rows every metric produces.

A photo's labels are a dict ``{category key: value key or list of keys}`` (the taxonomy's
``effective_categories``). A photo belongs to every value it lists: someone who declares two
ethnicities counts in both groups (never in a made-up "mixed" group), so group sizes of a
multi-valued category can add up to more than the number of photos. A photo without a value
for a category is in none of its groups. An intersection joins its parts:
``gender=woman&skin_tone=9`` (category ``gender&skin_tone``).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

CATEGORIES: tuple[str, ...] = ("age_range", "gender", "ethnicity", "skin_tone", "accessories", "lighting")
#: The intersections reported besides the single categories (NIST FRVT part 3 looks at sex × race).
INTERSECTIONS: tuple[tuple[str, ...], ...] = (("gender", "ethnicity"), ("gender", "skin_tone"), ("gender", "age_range"))
ALL = "all"  # category and value of the row over every photo / pair
SUMMARY = "*"  # value of a row that summarises the groups of a category (gap, ratio, FDR, ...)


@dataclass(frozen=True)
class GroupSpec:
    parts: tuple[str, ...]

    @property
    def category(self) -> str:
        return "&".join(self.parts) if self.parts else ALL

    @property
    def is_overall(self) -> bool:
        return not self.parts


OVERALL = GroupSpec(())


def default_specs(categories: Sequence[str] = CATEGORIES,
                  intersections: Sequence[Sequence[str]] = INTERSECTIONS) -> list[GroupSpec]:
    return [OVERALL, *(GroupSpec((c,)) for c in categories), *(GroupSpec(tuple(i)) for i in intersections)]


def label_values(labels: dict[str, Any], key: str) -> list[str]:
    raw = labels.get(key)
    if raw is None or raw == "" or raw == []:
        return []
    if isinstance(raw, list | tuple):
        return [str(v) for v in raw if v not in (None, "")]
    return [str(raw)]


def group_values(labels: dict[str, Any], spec: GroupSpec) -> list[str]:
    """The groups of ``spec`` that a photo with ``labels`` belongs to."""
    if spec.is_overall:
        return [ALL]
    if len(spec.parts) == 1:
        return label_values(labels, spec.parts[0])
    per_part = [[f"{p}={v}" for v in label_values(labels, p)] for p in spec.parts]
    return ["&".join(combo) for combo in itertools.product(*per_part)]


def explode(labels: Sequence[dict[str, Any]], spec: GroupSpec) -> tuple[np.ndarray, np.ndarray]:
    """(row -> photo index, row -> group value): one row per (photo, group it belongs to)."""
    idx: list[int] = []
    vals: list[str] = []
    for i, lab in enumerate(labels):
        for v in group_values(lab, spec):
            idx.append(i)
            vals.append(v)
    return np.asarray(idx, dtype=np.int64), np.asarray(vals, dtype=object)


def explode_pairs(labels: Sequence[dict[str, Any]], spec: GroupSpec, a: np.ndarray,
                  b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(row -> pair index, row -> group value) for the pairs whose two photos share the group.

    A pair across two groups belongs to neither: per-group false-match rates are measured on
    impostor pairs within one group, as NIST FRVT does (an impostor of the same sex and
    origin is the hard case); the "all" rows use every pair.
    """
    if spec.is_overall:
        return np.arange(len(a), dtype=np.int64), np.full(len(a), ALL, dtype=object)
    members: dict[str, list[int]] = {}
    for i, lab in enumerate(labels):
        for v in group_values(lab, spec):
            members.setdefault(v, []).append(i)
    idx: list[np.ndarray] = []
    vals: list[np.ndarray] = []
    n = len(labels)
    for v, photos in members.items():
        mask = np.zeros(n, dtype=bool)
        mask[photos] = True
        rows = np.flatnonzero(mask[a] & mask[b])
        if rows.size:
            idx.append(rows)
            vals.append(np.full(rows.size, v, dtype=object))
    if not idx:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=object)
    return np.concatenate(idx), np.concatenate(vals)


def binary_frame(groups: np.ndarray, y_true: np.ndarray, y_pred: np.ndarray, metrics: dict[str, Any]) -> Any:
    """fairlearn ``MetricFrame`` over binary outcomes, fed one row per distinct
    (group, y_true, y_pred) with its count as the sample weight.

    MetricFrame calls the metric functions once per group through pandas, which costs ~25 ms
    per call on 10^5 rows; the compressed input gives the same per-group numbers in
    microseconds. Each metric is ``f(y_true, y_pred, w)`` with ``w`` the row counts."""
    import pandas as pd
    from fairlearn.metrics import MetricFrame

    codes, uniques = pd.factorize(pd.Series(groups, dtype=object))
    key = codes.astype(np.int64) * 4 + np.asarray(y_true, dtype=np.int64) * 2 + np.asarray(y_pred, dtype=np.int64)
    u, counts = np.unique(key, return_counts=True)
    g = np.asarray(uniques, dtype=object)[u // 4]
    return MetricFrame(metrics=metrics, y_true=(u // 2) % 2, y_pred=u % 2,
                       sensitive_features=pd.Series(g, name="group"),
                       sample_params={name: {"w": counts.astype(float)} for name in metrics}).by_group


@dataclass
class MetricRow:
    """One number of a run: ``metric`` of group ``value`` of ``category``, with its n and 95% CI.

    ``insufficient`` rows (n below the minimum group size) carry no estimate and no interval:
    a rate over a handful of photos is noise that reads like a finding."""

    category: str
    value: str
    metric: str
    estimate: float | None
    n: int
    ci_low: float | None = None
    ci_high: float | None = None
    insufficient: bool = False
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Curve:
    """DET curve of one group: ``points`` are ``[threshold, fmr, fnmr]`` rows."""

    category: str
    value: str
    points: list[list[float]]
    n_genuine: int
    n_impostor: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _clean(x: float | None) -> float | None:
    if x is None:
        return None
    x = float(x)
    return None if math.isnan(x) or math.isinf(x) else x


def make_row(category: str, value: str, metric: str, estimate: float | None, n: int,
             ci: tuple[float, float] | None, min_n: int) -> MetricRow:
    if n < min_n:
        return MetricRow(category, value, metric, None, int(n), None, None, True)
    lo, hi = ci if ci is not None else (None, None)
    note = ""
    if estimate is not None and math.isinf(float(estimate)):
        # JSON has no infinity: the number is withheld and the note says why.
        note = "infinite: the best group made no errors"
    elif estimate is None or math.isnan(float(estimate)):
        note = "undefined"
    return MetricRow(category, value, metric, _clean(estimate), int(n), _clean(lo), _clean(hi), False, note)
