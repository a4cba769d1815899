"""Summaries of the differences between groups."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TypeAlias

import numpy as np

Rates: TypeAlias = Sequence[float] | np.ndarray


def max_pairwise_gap(rates: Rates) -> float:
    """max over pairs of groups |r_i − r_j|, which is simply max − min."""
    r = np.asarray(rates, dtype=float)
    return float(r.max() - r.min()) if r.size else math.nan


def fairness_discrepancy_rate(fmrs: Rates, fnmrs: Rates, alpha: float = 0.5) -> float:
    """FDR(τ) = 1 − (α·A(τ) + (1 − α)·B(τ)) (de Freitas Pereira & Marcel 2021, "Fairness in
    Biometrics: a figure of merit to assess biometric verification systems", IEEE TBIOM).

    A = max pairwise |FMR_i − FMR_j|, B = max pairwise |FNMR_i − FNMR_j| over the groups, at one
    threshold τ. 1 means all groups err alike; α = 0.5 weighs both error kinds equally."""
    if len(fmrs) < 2 or len(fnmrs) < 2:
        return math.nan
    return 1.0 - (alpha * max_pairwise_gap(fmrs) + (1 - alpha) * max_pairwise_gap(fnmrs))


def gn_score(accuracies: Rates) -> float:
    """Mean accuracy minus the accuracy gap, generalised to many groups as max − min.

    With two groups this is the "gender-neutral" score of its challenge, mean(acc) − |acc_1 − acc_2|."""
    a = np.asarray(accuracies, dtype=float)
    if a.size == 0:
        return math.nan
    return float(a.mean() - (a.max() - a.min()))


def worst_best_ratio(error_rates: Rates) -> float:
    """Highest error rate divided by the lowest (NISTIR 8280 reports FMR ratios this way).

    ``inf`` when the best group made no error at all and another did; NaN when none did. The
    caller shows an infinite ratio as "best group had no errors" rather than a number."""
    r = np.asarray(error_rates, dtype=float)
    if r.size < 2:
        return math.nan
    hi, lo = float(r.max()), float(r.min())
    if hi == 0:
        return math.nan
    return math.inf if lo == 0 else hi / lo
