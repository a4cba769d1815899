"""The low-light stress test per group: detection on darkened copies of well-lit photos, with and
without the platform's enhancement, and the share of the loss the enhancement wins back."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ml.metrics._boot import boot_group_sums
from ml.metrics.groups import GroupSpec, MetricRow, default_specs, explode, group_codes, make_row, subject_codes
from ml.metrics.intervals import percentile_interval, subject_weights, wilson


def level_key(level: float) -> str:
    """``0.015`` -> ``"0.015"``: the suffix of the metric names (``lowlight_rate@0.015``)."""
    return f"{level:g}"


def lowlight_metrics(lit: np.ndarray, dark: Mapping[float, np.ndarray], enhanced: Mapping[float, np.ndarray],
                     labels: Sequence[dict[str, Any]], subjects: Sequence[str], *, min_group_size: int = 30,
                     specs: Sequence[GroupSpec] | None = None, n_boot: int = 200, seed: int = 0) -> list[MetricRow]:
    """Rows per group and light level L (``dark[L]``: found on the darkened copy; ``enhanced[L]``:
    found on the darkened copy or on its enhanced copy, the pipeline's rule):

    - ``lowlight_rate@L`` and ``lowlight_enhanced_rate@L``: detection rates (Wilson);
    - ``lowlight_won_back@L``: (enhanced − dark) / (lit − dark) summed over the group's photos, the
      share of the faces lost to darkness that the enhancement recovers (subject bootstrap);
      no number where darkness lost nothing.
    """
    lit = np.asarray(lit, dtype=float)
    subj_codes, n_subj = subject_codes(subjects)
    weights = subject_weights(n_subj, n_boot, seed)
    rows: list[MetricRow] = []
    for spec in specs or default_specs():
        idx, vals = explode(labels, spec)
        if idx.size == 0:
            continue
        groups, codes = group_codes(vals)
        n = np.bincount(codes, minlength=len(groups))
        for level in sorted(dark):
            key = level_key(level)
            d = np.asarray(dark[level], dtype=float)[idx]
            e = np.maximum(np.asarray(enhanced[level], dtype=float)[idx], d)
            gain, loss = e - d, lit[idx] - d
            num, _ = boot_group_sums(lambda lo, hi, s=subj_codes[idx]: weights[:, s[lo:hi]],
                                     np.stack([gain, loss], axis=1), codes, len(groups), n_boot)
            k_d = np.bincount(codes, weights=d, minlength=len(groups))
            k_e = np.bincount(codes, weights=e, minlength=len(groups))
            s_gain = np.bincount(codes, weights=gain, minlength=len(groups))
            s_loss = np.bincount(codes, weights=loss, minlength=len(groups))
            for gi, g in enumerate(groups):
                ng = int(n[gi])
                rows.append(make_row(spec.category, g, f"lowlight_rate@{key}", k_d[gi] / ng, ng,
                                     wilson(int(k_d[gi]), ng), min_group_size))
                rows.append(make_row(spec.category, g, f"lowlight_enhanced_rate@{key}", k_e[gi] / ng, ng,
                                     wilson(int(k_e[gi]), ng), min_group_size))
                if s_loss[gi] <= 0:
                    row = make_row(spec.category, g, f"lowlight_won_back@{key}", None, ng, None, min_group_size)
                    if not row.insufficient:
                        row.note = "no loss to win back"
                    rows.append(row)
                    continue
                with np.errstate(invalid="ignore", divide="ignore"):
                    boot = np.where(num[:, gi, 1] > 0, num[:, gi, 0] / num[:, gi, 1], np.nan)
                rows.append(make_row(spec.category, g, f"lowlight_won_back@{key}", s_gain[gi] / s_loss[gi], ng,
                                     percentile_interval(boot), min_group_size))
    return rows
