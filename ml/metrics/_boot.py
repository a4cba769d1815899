"""Vectorised subject bootstrap of per-group weighted means.

A replicate gives each subject a multiplicity w_s (how often it was drawn). A photo row of
subject s then weighs w_s, a pair of subjects (s, t) weighs w_s * w_t (each drawn copy of s
meets each drawn copy of t), a genuine pair of s weighs w_s. The replicate's group rate is
sum(weight * error) / sum(weight) over the group's rows: one sparse matrix product for all
groups and all replicates at once.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

CHUNK = 20000


def group_onehot(group_codes: np.ndarray, n_groups: int) -> sparse.csr_matrix:
    r = group_codes.size
    return sparse.csr_matrix((np.ones(r, dtype=np.float32), (np.arange(r), group_codes)), shape=(r, n_groups))


def boot_group_sums(row_weights_fn, values: np.ndarray, group_codes: np.ndarray, n_groups: int,
                    n_boot: int) -> tuple[np.ndarray, np.ndarray]:
    """(numerator, denominator), each (n_boot, n_groups): weighted sums of ``values`` and of 1.

    ``row_weights_fn(lo, hi)`` returns the (n_boot, hi - lo) weights of rows lo..hi; rows are
    processed in chunks so memory stays bounded for hundreds of thousands of pairs.
    ``values`` may be 2-D (rows, k): then the numerator is (n_boot, n_groups, k).
    """
    vals = values.reshape(values.shape[0], -1).astype(np.float32)
    k = vals.shape[1]
    num = np.zeros((n_boot, n_groups, k), dtype=np.float64)
    den = np.zeros((n_boot, n_groups), dtype=np.float64)
    for lo in range(0, group_codes.size, CHUNK):
        hi = min(group_codes.size, lo + CHUNK)
        w = row_weights_fn(lo, hi)  # (B, c)
        onehot_t = group_onehot(group_codes[lo:hi], n_groups).T.tocsr()  # (G, c)
        den += (onehot_t @ w.T).T
        for j in range(k):
            num[:, :, j] += (onehot_t @ (w * vals[lo:hi, j]).T).T
    if values.ndim == 1:
        return num[:, :, 0], den
    return num, den


def safe_ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        out = num / (den if num.ndim == den.ndim else den[..., None])
    return np.where(np.isfinite(out), out, np.nan)
