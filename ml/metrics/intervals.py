"""Confidence intervals: Wilson for proportions, a seeded subject bootstrap for the rest."""

from __future__ import annotations

import math

import numpy as np

Z95 = 1.959963984540054


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for k successes out of n (Wilson 1927). (nan, nan) when n == 0.

    Unlike the normal approximation it stays inside [0, 1] and does not collapse to a point
    when k is 0 or n, which matters here: a zero-error group is common and its interval is
    what says how much the zero is worth.
    """
    if n <= 0:
        return (math.nan, math.nan)
    p = k / n
    z2 = z * z
    denom = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denom
    # Exact bounds at the edges (the formula gives them up to rounding).
    lo = 0.0 if k == 0 else max(0.0, centre - half)
    hi = 1.0 if k == n else min(1.0, centre + half)
    return (lo, hi)


def subject_weights(n_subjects: int, n_boot: int, seed: int) -> np.ndarray:
    """(n_boot, n_subjects) multiplicities of a resample of subjects with replacement.

    Resampling subjects, not photos or pairs, keeps a person's photos together: pairs that
    share a person are not independent, and a photo-level bootstrap would give intervals
    that are too narrow (Bolle et al. 2004, "subsets bootstrap").
    """
    rng = np.random.default_rng(seed)
    if n_subjects == 0:
        return np.zeros((n_boot, 0), dtype=np.float32)
    draws = rng.integers(0, n_subjects, size=(n_boot, n_subjects))
    w = np.zeros((n_boot, n_subjects), dtype=np.float32)
    rows = np.repeat(np.arange(n_boot), n_subjects)
    np.add.at(w, (rows, draws.ravel()), 1.0)
    return w


def percentile_interval(samples: np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """Percentile interval of bootstrap replicates, ignoring replicates where the rate is undefined."""
    s = np.asarray(samples, dtype=np.float64)
    s = s[~np.isnan(s)]  # an infinite ratio is a real outcome and stays; an undefined one does not
    if s.size == 0:
        return (math.nan, math.nan)
    a = (1 - level) / 2
    # "lower"/"higher" pick replicates instead of interpolating (no inf - inf), a little conservative.
    return (float(np.quantile(s, a, method="lower")), float(np.quantile(s, 1 - a, method="higher")))
