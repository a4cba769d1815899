"""Verification error rates per group: pairs, thresholds, FMR/FNMR, DET curves, EER, fairness.

Conventions: a pair is declared a match when its distance is ≤ τ (dlib's and
face_recognition's rule). FMR(τ) = share of impostor pairs with d ≤ τ, FNMR(τ) = share of
genuine pairs with d > τ. Genuine pairs: two photos of the same subject. Impostor pairs:
photos of two different subjects; per-group rows use the impostor pairs *within* the group
(NIST FRVT's same-demographic impostors), the ``all`` row uses every impostor pair.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ml.metrics._boot import boot_group_sums, safe_ratio
from ml.metrics.fairness import fairness_discrepancy_rate, gn_score, worst_best_ratio
from ml.metrics.groups import (
    SUMMARY,
    Curve,
    GroupSpec,
    MetricRow,
    default_specs,
    explode_pairs,
    group_codes,
    make_row,
    multi_frame,
    subject_codes,
)
from ml.metrics.intervals import percentile_interval, subject_weights


@dataclass(frozen=True)
class Pairs:
    a: np.ndarray  # photo index of the first photo
    b: np.ndarray  # photo index of the second photo (a < b)
    genuine: np.ndarray  # bool
    impostor_total: int  # impostor pairs that exist (before any sampling)

    @property
    def n_genuine(self) -> int:
        return int(self.genuine.sum())

    @property
    def n_impostor(self) -> int:
        return int((~self.genuine).sum())


def make_pairs(subjects: Sequence[str], valid: np.ndarray | None = None, *, max_impostor: int = 200_000,
               seed: int = 0) -> Pairs:
    """Every genuine pair, and every impostor pair or a seeded uniform sample of ``max_impostor``.

    ``valid`` masks out photos without an embedding (a face the verifier could not enrol)."""
    subj, _ = subject_codes(subjects)
    n = subj.size
    ok = np.ones(n, dtype=bool) if valid is None else np.asarray(valid, dtype=bool)
    v = np.flatnonzero(ok)
    # Genuine pairs: all pairs within each subject.
    order = v[np.argsort(subj[v], kind="stable")]
    ga: list[np.ndarray] = []
    gb: list[np.ndarray] = []
    if order.size:
        bounds = np.flatnonzero(np.diff(subj[order])) + 1
        for block in np.split(order, bounds):
            if block.size > 1:
                i, j = np.triu_indices(block.size, k=1)
                ga.append(block[i])
                gb.append(block[j])
    gen_a = np.concatenate(ga) if ga else np.zeros(0, np.int64)
    gen_b = np.concatenate(gb) if gb else np.zeros(0, np.int64)
    total_pairs = v.size * (v.size - 1) // 2
    imp_total = total_pairs - gen_a.size
    if imp_total <= max_impostor:
        i, j = np.triu_indices(v.size, k=1)
        ia, ib = v[i], v[j]
        keep = subj[ia] != subj[ib]
        imp_a, imp_b = ia[keep], ib[keep]
    else:
        rng = np.random.default_rng(seed)
        seen: set[int] = set()
        chosen_a: list[int] = []
        chosen_b: list[int] = []
        while len(chosen_a) < max_impostor:
            x = v[rng.integers(0, v.size, size=2 * max_impostor)]
            y = v[rng.integers(0, v.size, size=2 * max_impostor)]
            lo, hi = np.minimum(x, y), np.maximum(x, y)
            for p, q in zip(lo.tolist(), hi.tolist(), strict=True):
                if p == q or subj[p] == subj[q]:
                    continue
                key = p * n + q
                if key in seen:
                    continue
                seen.add(key)
                chosen_a.append(p)
                chosen_b.append(q)
                if len(chosen_a) >= max_impostor:
                    break
        imp_a, imp_b = np.asarray(chosen_a, np.int64), np.asarray(chosen_b, np.int64)
    a = np.concatenate([gen_a, imp_a]).astype(np.int64)
    b = np.concatenate([gen_b, imp_b]).astype(np.int64)
    genuine = np.concatenate([np.ones(gen_a.size, bool), np.zeros(imp_a.size, bool)])
    return Pairs(a=a, b=b, genuine=genuine, impostor_total=int(imp_total))


def pair_distances(embeddings: np.ndarray, a: np.ndarray, b: np.ndarray, metric: str = "euclidean") -> np.ndarray:
    """Distances of the pairs (a[k], b[k]), computed in chunks (float64)."""
    e = np.asarray(embeddings, dtype=np.float64)
    out = np.empty(a.size, dtype=np.float64)
    if metric == "cosine":
        norm = np.linalg.norm(e, axis=1, keepdims=True)
        e = e / np.where(norm == 0, 1.0, norm)
    for lo in range(0, a.size, 50_000):
        hi = min(a.size, lo + 50_000)
        x, y = e[a[lo:hi]], e[b[lo:hi]]
        if metric == "cosine":
            out[lo:hi] = 1.0 - np.einsum("ij,ij->i", x, y)
        elif metric == "euclidean":
            out[lo:hi] = np.linalg.norm(x - y, axis=1)
        else:
            raise ValueError(f"unknown metric {metric!r}")
    return out


def threshold_at_fmr(impostor_distances: np.ndarray, target: float) -> tuple[float, bool]:
    """The largest τ whose FMR over ``impostor_distances`` does not exceed ``target``.

    Returns (τ, resolvable). With fewer than 1/target impostor pairs no false match at all is
    allowed (τ lies just below the smallest impostor distance) and ``resolvable`` is False:
    the target cannot be measured on so few pairs, only bounded."""
    s = np.sort(np.asarray(impostor_distances, dtype=np.float64))
    n = s.size
    if n == 0:
        return (math.nan, False)
    k = int(math.floor(target * n + 1e-9))  # false matches allowed
    if k >= n:
        return (float(s[-1]), True)
    return (float(np.nextafter(s[k], -np.inf)), k >= 1)


def error_rates(distances: np.ndarray, genuine: np.ndarray, threshold: float) -> tuple[float, float]:
    """(FMR, FNMR) at ``threshold``; NaN where there is no pair of that kind."""
    d = np.asarray(distances, dtype=np.float64)
    g = np.asarray(genuine, dtype=bool)
    match = d <= threshold
    fmr = float(match[~g].mean()) if (~g).any() else math.nan
    fnmr = float((~match[g]).mean()) if g.any() else math.nan
    return fmr, fnmr


def det_curve(genuine_d: np.ndarray, impostor_d: np.ndarray, thresholds: np.ndarray) -> list[list[float]]:
    """[τ, FMR(τ), FNMR(τ)] at each threshold (ascending τ: FMR rises, FNMR falls)."""
    gs = np.sort(np.asarray(genuine_d, dtype=np.float64))
    im = np.sort(np.asarray(impostor_d, dtype=np.float64))
    t = np.asarray(thresholds, dtype=np.float64)
    fmr = np.searchsorted(im, t, side="right") / max(1, im.size)
    fnmr = 1.0 - np.searchsorted(gs, t, side="right") / max(1, gs.size)
    return [[float(a), float(b), float(c)] for a, b, c in zip(t, fmr, fnmr, strict=True)]


def _eer_sorted(d: np.ndarray, is_gen: np.ndarray, w: np.ndarray) -> np.ndarray:
    """EER for each row of weights ``w`` (R, P) over pairs sorted by distance ``d``.

    Thresholds are the distinct distances (and −∞); EER is (FMR + FNMR) / 2 where |FMR − FNMR|
    is smallest, the usual discrete estimate."""
    last = np.append(d[1:] != d[:-1], True)  # last position of each run of equal distances
    imp_w = w * (~is_gen)
    gen_w = w * is_gen
    tot_imp = imp_w.sum(axis=1, keepdims=True)
    tot_gen = gen_w.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        fmr = np.cumsum(imp_w, axis=1)[:, last] / tot_imp
        fnmr = 1.0 - np.cumsum(gen_w, axis=1)[:, last] / tot_gen
    fmr = np.concatenate([np.zeros((w.shape[0], 1)), fmr], axis=1)
    fnmr = np.concatenate([np.ones((w.shape[0], 1)), fnmr], axis=1)
    j = np.nanargmin(np.abs(fmr - fnmr), axis=1)
    rows = np.arange(w.shape[0])
    out = (fmr[rows, j] + fnmr[rows, j]) / 2
    bad = (tot_imp[:, 0] <= 0) | (tot_gen[:, 0] <= 0)
    out[bad] = np.nan
    return out


def equal_error_rate(genuine_d: np.ndarray, impostor_d: np.ndarray) -> float:
    """Equal-error rate: where FMR and FNMR meet (discrete estimate, see ``_eer_sorted``)."""
    d = np.concatenate([np.asarray(genuine_d, float), np.asarray(impostor_d, float)])
    g = np.concatenate([np.ones(len(genuine_d), bool), np.zeros(len(impostor_d), bool)])
    if not len(genuine_d) or not len(impostor_d):
        return math.nan
    order = np.argsort(d, kind="stable")
    return float(_eer_sorted(d[order], g[order], np.ones((1, d.size)))[0])


def _pair_metrics(n_thresholds: int) -> dict[str, Any]:
    """Counts per group; y_pred holds one match bit per threshold (bit k: distance ≤ τ_k)."""
    out: dict[str, Any] = {
        "n_imp": lambda t, p, w: float(np.sum(w[t == 0])),
        "n_gen": lambda t, p, w: float(np.sum(w[t == 1])),
    }
    for k in range(n_thresholds):
        out[f"fm{k}"] = lambda t, p, w, k=k: float(np.sum(w[(t == 0) & (((p >> k) & 1) == 1)]))
        out[f"fnm{k}"] = lambda t, p, w, k=k: float(np.sum(w[(t == 1) & (((p >> k) & 1) == 0)]))
    return out


def verification_metrics(distances: np.ndarray, pairs: Pairs, subjects: Sequence[str],
                         labels: Sequence[dict[str, Any]], *, thresholds: Mapping[str, float],
                         min_group_size: int = 30, specs: Sequence[GroupSpec] | None = None, n_boot: int = 200,
                         seed: int = 0, det_points: int = 40, eer_boot: int = 50,
                         eer_max_pairs: int = 20_000) -> tuple[list[MetricRow], list[Curve]]:
    """Rows per group and threshold name (e.g. ``target``, ``usual``):

    ``fmr@name`` (n = impostor pairs), ``fnmr@name`` (n = genuine pairs), ``eer``; per category
    (value ``*``), over the groups with enough pairs of both kinds: ``fmr_ratio@name`` and
    ``fnmr_ratio@name`` (worst / best) with their ``log10_…``, ``fdr@name`` (Fairness
    Discrepancy Rate, α = 0.5) and ``gn_score@name`` on accuracy = 1 − (FMR + FNMR) / 2.
    Intervals: subject bootstrap (``n_boot`` replicates, seeded). DET curves per sufficient group.
    """
    d = np.asarray(distances, dtype=np.float64)
    gen = pairs.genuine
    subj, n_subj = subject_codes(subjects)
    weights = subject_weights(n_subj, n_boot, seed)
    names = list(thresholds)
    grid = np.unique(np.quantile(d, np.linspace(0, 1, det_points))) if d.size else np.zeros(0)
    rows: list[MetricRow] = []
    curves: list[Curve] = []
    rng = np.random.default_rng(seed + 1)

    match_bits = np.zeros(d.size, dtype=np.int64)
    for k, name in enumerate(names):
        match_bits |= (d <= thresholds[name]).astype(np.int64) << k
    exploded = [(spec, *explode_pairs(labels, spec, pairs.a, pairs.b)) for spec in specs or default_specs()]
    exploded = [(spec, idx, vals) for spec, idx, vals in exploded if idx.size]
    all_frames = multi_frame([(vals, gen[idx], match_bits[idx]) for _, idx, vals in exploded], 1 << len(names),
                             _pair_metrics(len(names)))

    for (spec, idx, vals), frame in zip(exploded, all_frames, strict=True):
        cat = spec.category
        g_rows = gen[idx]
        d_rows = d[idx]
        groups, codes = group_codes(vals, frame.index)

        # Bootstrap: columns imp, gen, then (false match, false non-match) per threshold.
        cols = [~g_rows, g_rows]
        for name in names:
            m = d_rows <= thresholds[name]
            cols += [(~g_rows) & m, g_rows & ~m]
        values = np.stack(cols, axis=1).astype(np.float32)
        sa, sb = subj[pairs.a[idx]], subj[pairs.b[idx]]

        def wfn(lo: int, hi: int, sa: np.ndarray = sa, sb: np.ndarray = sb, g: np.ndarray = g_rows) -> np.ndarray:
            wa = weights[:, sa[lo:hi]]
            return np.where(g[lo:hi], wa, wa * weights[:, sb[lo:hi]])

        num, _ = boot_group_sums(wfn, values, codes, len(groups), n_boot)
        b_imp, b_gen = num[:, :, 0], num[:, :, 1]

        n_imp = frame["n_imp"].to_numpy().astype(int)
        n_gen = frame["n_gen"].to_numpy().astype(int)
        both = [i for i in range(len(groups)) if n_imp[i] >= min_group_size and n_gen[i] >= min_group_size]
        for t_i, name in enumerate(names):
            fm = frame[f"fm{t_i}"].to_numpy()
            fnm = frame[f"fnm{t_i}"].to_numpy()
            b_fmr = safe_ratio(num[:, :, 2 + 2 * t_i], b_imp)
            b_fnmr = safe_ratio(num[:, :, 3 + 2 * t_i], b_gen)
            fmr = np.where(n_imp > 0, fm / np.maximum(n_imp, 1), np.nan)
            fnmr = np.where(n_gen > 0, fnm / np.maximum(n_gen, 1), np.nan)
            for gi, g in enumerate(groups):
                if n_imp[gi]:
                    rows.append(make_row(cat, g, f"fmr@{name}", fmr[gi], n_imp[gi],
                                         percentile_interval(b_fmr[:, gi]), min_group_size))
                if n_gen[gi]:
                    rows.append(make_row(cat, g, f"fnmr@{name}", fnmr[gi], n_gen[gi],
                                         percentile_interval(b_fnmr[:, gi]), min_group_size))
            if spec.is_overall or len(both) < 2:
                continue
            n_tot = int(n_imp[both].sum() + n_gen[both].sum())
            bf, bn = b_fmr[:, both], b_fnmr[:, both]
            boot = {
                "fmr_ratio": np.array([worst_best_ratio(r) for r in bf]),
                "fnmr_ratio": np.array([worst_best_ratio(r) for r in bn]),
                "fdr": np.array([fairness_discrepancy_rate(x, y) for x, y in zip(bf, bn, strict=True)]),
                "gn_score": np.array([gn_score(1 - (x + y) / 2) for x, y in zip(bf, bn, strict=True)]),
            }
            est = {
                "fmr_ratio": worst_best_ratio(fmr[both]),
                "fnmr_ratio": worst_best_ratio(fnmr[both]),
                "fdr": fairness_discrepancy_rate(fmr[both], fnmr[both]),
                "gn_score": gn_score(1 - (fmr[both] + fnmr[both]) / 2),
            }
            for key in ("fmr_ratio", "fnmr_ratio", "fdr", "gn_score"):
                rows.append(make_row(cat, SUMMARY, f"{key}@{name}", est[key], n_tot,
                                     percentile_interval(boot[key]), 0))
            for key in ("fmr_ratio", "fnmr_ratio"):
                with np.errstate(divide="ignore", invalid="ignore"):
                    lo, hi = percentile_interval(np.log10(boot[key]))
                    e = math.log10(est[key]) if est[key] > 0 else math.nan
                rows.append(make_row(cat, SUMMARY, f"log10_{key}@{name}", e, n_tot, (lo, hi), 0))

        # EER and DET curves: overall and single categories (intersections are too thin to draw).
        if len(spec.parts) > 1:
            continue
        eer_w = weights[: min(eer_boot, n_boot)]
        for gi, g in enumerate(groups):
            sel = np.flatnonzero(codes == gi)
            gd, gg = d_rows[sel], g_rows[sel]
            if n_imp[gi] == 0 or n_gen[gi] == 0:
                continue
            est_eer = equal_error_rate(gd[gg], gd[~gg])
            ci: tuple[float, float] | None = None
            if gi in both:
                sub = sel if sel.size <= eer_max_pairs else np.sort(rng.choice(sel, eer_max_pairs, replace=False))
                o = np.argsort(d_rows[sub], kind="stable")
                s_sub = sub[o]
                wa = eer_w[:, sa[s_sub]]
                w = np.where(g_rows[s_sub], wa, wa * eer_w[:, sb[s_sub]])
                ci = percentile_interval(_eer_sorted(d_rows[s_sub], g_rows[s_sub], w))
                curves.append(Curve(cat, g, det_curve(gd[gg], gd[~gg], grid), int(n_gen[gi]), int(n_imp[gi])))
            n_pairs = int(n_imp[gi] + n_gen[gi])
            # Sufficient only when both kinds of pairs reach the minimum.
            rows.append(make_row(cat, g, "eer", est_eer, n_pairs, ci, 0 if gi in both else n_pairs + 1))
    return rows, curves
