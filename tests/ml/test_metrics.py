"""ml.metrics against small cases computed by hand (no Django)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ml import metrics as M


def rows_by(rows, **kw):
    return [r for r in rows if all(getattr(r, k) == v for k, v in kw.items())]


def one(rows, **kw):
    found = rows_by(rows, **kw)
    assert len(found) == 1, (kw, found)
    return found[0]


# --- intervals -----------------------------------------------------------------------------

def test_wilson_half_and_zero_and_all():
    lo, hi = M.wilson(5, 10)
    assert lo == pytest.approx(0.2366, abs=1e-4) and hi == pytest.approx(0.7634, abs=1e-4)
    z2 = M.intervals.Z95 ** 2
    assert M.wilson(0, 10) == (0.0, pytest.approx(z2 / (10 + z2)))  # zero-error group: [0, 0.2775]
    assert M.wilson(10, 10) == (pytest.approx(10 / (10 + z2)), 1.0)
    assert all(math.isnan(x) for x in M.wilson(0, 0))


def test_subject_weights_are_seeded_resamples():
    w1 = M.subject_weights(7, 50, seed=3)
    w2 = M.subject_weights(7, 50, seed=3)
    assert np.array_equal(w1, w2)
    assert w1.shape == (50, 7) and np.all(w1.sum(axis=1) == 7)


# --- detection -----------------------------------------------------------------------------

def test_iou_hand_cases():
    assert M.iou([0, 0, 10, 10], [5, 0, 15, 10]) == pytest.approx(50 / 150)
    assert M.iou([0, 0, 10, 10], [0, 0, 10, 10]) == 1.0
    assert M.iou([0, 0, 10, 10], [20, 20, 30, 30]) == 0.0


def test_matched_face_iou_rule_and_one_face_rule():
    face = [0, 0, 10, 10]
    dets = [{"box": [5, 0, 15, 10], "score": 0.99}, {"box": [1, 0, 11, 10], "score": 0.5}]
    # The overlapping one is not confident; the confident one has IoU 1/3 < 0.5: missed.
    assert M.matched_face(dets, face, min_score=0.9) is None
    assert M.matched_face(dets, face, min_score=0.4) == dets[1]  # IoU 9/11
    # No validated box: the largest confident detection stands for the one face.
    big = {"box": [0, 0, 50, 50], "score": 0.95}
    assert M.matched_face([dets[0], big], None, min_score=0.9) == big
    assert M.matched_face([], None, min_score=0.9) is None


def _det_case():
    labels, subjects, hits = [], [], []
    for i in range(10):  # women: 5 of 10 found
        labels.append({"gender": "woman", "skin_tone": "9"})
        subjects.append(f"w{i}")
        hits.append(i < 5)
    for i in range(10):  # men: all found (a zero-error group)
        labels.append({"gender": "man", "skin_tone": "2"})
        subjects.append(f"m{i}")
        hits.append(True)
    for i in range(3):  # a group under the minimum size
        labels.append({"gender": "non_binary", "skin_tone": "9"})
        subjects.append(f"n{i}")
        hits.append(False)
    return np.array(hits), labels, subjects


def test_detection_rates_per_group_by_hand():
    hits, labels, subjects = _det_case()
    rows = M.detection_metrics(hits, labels, subjects, min_group_size=5, n_boot=100)
    w = one(rows, category="gender", value="woman", metric="detection_rate")
    assert (w.estimate, w.n) == (0.5, 10)
    assert (w.ci_low, w.ci_high) == pytest.approx(M.wilson(5, 10))
    m = one(rows, category="gender", value="man", metric="detection_rate")
    assert m.estimate == 1.0 and m.ci_high == 1.0 and m.ci_low == pytest.approx(M.wilson(10, 10)[0])
    nb = one(rows, category="gender", value="non_binary", metric="detection_rate")
    assert nb.insufficient and nb.estimate is None and nb.ci_low is None and nb.n == 3
    overall = one(rows, category="all", value="all", metric="detection_rate")
    assert overall.estimate == pytest.approx(15 / 23) and overall.n == 23
    gap = one(rows, category="gender", value="*", metric="detection_gap")
    assert gap.estimate == pytest.approx(0.5)  # the insufficient group does not count
    assert gap.ci_low <= 0.5 <= gap.ci_high
    gn = one(rows, category="gender", value="*", metric="gn_score")
    assert gn.estimate == pytest.approx(0.75 - 0.5)
    # Intersections join their parts.
    inter = one(rows, category="gender&skin_tone", value="gender=woman&skin_tone=9", metric="detection_rate")
    assert inter.estimate == 0.5 and inter.n == 10


def test_multi_valued_category_counts_in_every_listed_group():
    labels = [{"ethnicity": ["black", "white"]}, {"ethnicity": ["white"]}]
    rows = M.detection_metrics(np.array([True, False]), labels, ["a", "b"], min_group_size=1, n_boot=20)
    assert one(rows, category="ethnicity", value="black", metric="detection_rate").estimate == 1.0
    white = one(rows, category="ethnicity", value="white", metric="detection_rate")
    assert (white.estimate, white.n) == (0.5, 2)


def test_enhancement_effect_is_paired_difference():
    # 6 dark photos of women: 2 found on the original, 5 on the enhanced copy.
    labels = [{"gender": "woman"}] * 6 + [{"gender": "man"}] * 2
    hits = np.array([1, 1, 0, 0, 0, 0, 1, 1], dtype=bool)
    enh = np.array([1, 1, 1, 1, 1, 0, np.nan, np.nan])
    rows = M.detection_metrics(hits, labels, [str(i) for i in range(8)], enhanced_hits=enh, min_group_size=1,
                               n_boot=200)
    eff = one(rows, category="gender", value="woman", metric="enhancement_effect")
    assert eff.estimate == pytest.approx(3 / 6) and eff.n == 6
    assert eff.ci_low <= 0.5 <= eff.ci_high
    assert one(rows, category="gender", value="woman", metric="detection_rate_enhanced").estimate == pytest.approx(5 / 6)
    assert one(rows, category="gender", value="woman", metric="detection_rate_lowlight_original").estimate == pytest.approx(2 / 6)
    assert not rows_by(rows, category="gender", value="man", metric="enhancement_effect")  # no enhanced copies


# --- verification --------------------------------------------------------------------------

def test_threshold_at_fmr_by_hand():
    imp = np.linspace(0.1, 1.0, 10)
    tau, ok = M.threshold_at_fmr(imp, 0.1)
    assert ok and 0.1 <= tau < 0.2
    assert M.error_rates(imp, np.zeros(10, bool), tau)[0] == pytest.approx(0.1)
    tau, ok = M.threshold_at_fmr(imp, 0.05)  # fewer than 1/target pairs: no false match allowed
    assert not ok and tau < 0.1


def test_error_rates_eer_and_det_by_hand():
    gen = np.array([0.2, 0.4, 0.6, 0.8])
    imp = np.array([0.3, 0.7, 0.9, 1.0])
    d = np.concatenate([gen, imp])
    g = np.array([True] * 4 + [False] * 4)
    assert M.error_rates(d, g, 0.5) == (pytest.approx(0.25), pytest.approx(0.5))
    assert M.equal_error_rate([0.1, 0.2, 0.3, 0.7], [0.5, 0.6, 0.8, 0.9]) == pytest.approx(0.25)
    assert M.equal_error_rate([0.1, 0.2], [0.5, 0.6]) == 0.0  # separable: no error at the crossing
    pts = M.det_curve(gen, imp, np.array([0.0, 0.5, 1.0]))
    assert pts == [[0.0, 0.0, 1.0], [0.5, 0.25, 0.5], [1.0, 1.0, 0.0]]


def test_fairness_summaries_by_hand():
    assert M.fairness_discrepancy_rate([0.01, 0.03, 0.02], [0.1, 0.2, 0.05]) == pytest.approx(1 - (0.01 + 0.075))
    assert M.gn_score([0.9, 0.8, 0.7]) == pytest.approx(0.6)
    assert M.worst_best_ratio([0.001, 0.01]) == pytest.approx(10)
    assert M.worst_best_ratio([0.0, 0.01]) == math.inf
    assert math.isnan(M.worst_best_ratio([0.0, 0.0]))


def test_make_pairs_counts_and_sampling():
    p = M.make_pairs(["a", "a", "b", "b", "c"])
    assert (p.n_genuine, p.n_impostor, p.impostor_total) == (2, 8, 8)
    p = M.make_pairs(["a", "a", "b", "b", "c"], valid=np.array([1, 1, 1, 0, 1], bool))
    assert (p.n_genuine, p.n_impostor) == (1, 5)
    big = M.make_pairs([str(i) for i in range(200)], max_impostor=1000, seed=1)
    assert big.n_impostor == 1000 and big.impostor_total == 19900
    assert len(set(zip(big.a.tolist(), big.b.tolist(), strict=True))) == 1000
    assert np.all(big.a < big.b)


def _verif_case():
    subjects = ["s1", "s1", "s2", "s2", "s3", "s3", "s4", "s4"]
    labels = [{"gender": "woman"}] * 4 + [{"gender": "man"}] * 4
    emb = np.array([[0.0], [0.1], [1.0], [1.3], [5.0], [5.5], [5.2], [6.0]])
    pairs = M.make_pairs(subjects)
    d = M.pair_distances(emb, pairs.a, pairs.b)
    return d, pairs, subjects, labels


def test_verification_per_group_within_group_impostors():
    d, pairs, subjects, labels = _verif_case()
    rows, curves = M.verification_metrics(d, pairs, subjects, labels, thresholds={"usual": 0.35},
                                          min_group_size=1, n_boot=50)
    w_fmr = one(rows, category="gender", value="woman", metric="fmr@usual")
    assert (w_fmr.estimate, w_fmr.n) == (0.0, 4)  # zero-error group
    assert (w_fmr.ci_low, w_fmr.ci_high) == (0.0, 0.0)
    m_fmr = one(rows, category="gender", value="man", metric="fmr@usual")
    assert (m_fmr.estimate, m_fmr.n) == (0.5, 4)  # (s3a,s4a)=0.2 and (s3b,s4a)=0.3 match
    assert one(rows, category="gender", value="woman", metric="fnmr@usual").estimate == 0.0
    m_fnmr = one(rows, category="gender", value="man", metric="fnmr@usual")
    assert (m_fnmr.estimate, m_fnmr.n) == (1.0, 2)
    overall = one(rows, category="all", value="all", metric="fmr@usual")
    assert (overall.estimate, overall.n) == (pytest.approx(2 / 24), 24)  # across all impostor pairs
    fdr = one(rows, category="gender", value="*", metric="fdr@usual")
    assert fdr.estimate == pytest.approx(1 - (0.5 * 0.5 + 0.5 * 1.0))
    ratio = one(rows, category="gender", value="*", metric="fmr_ratio@usual")
    assert ratio.estimate is None and ratio.note.startswith("infinite")
    gn = one(rows, category="gender", value="*", metric="gn_score@usual")
    assert gn.estimate == pytest.approx((1.0 + 0.25) / 2 - 0.75)
    assert {c.value for c in curves} >= {"woman", "man", "all"}
    assert one(rows, category="gender", value="woman", metric="eer").estimate == 0.0


def test_verification_groups_under_minimum_size_have_no_number():
    d, pairs, subjects, labels = _verif_case()
    rows, curves = M.verification_metrics(d, pairs, subjects, labels, thresholds={"usual": 0.35},
                                          min_group_size=5, n_boot=20)
    w = one(rows, category="gender", value="woman", metric="fmr@usual")
    assert w.insufficient and w.estimate is None and w.n == 4
    assert not rows_by(rows, category="gender", value="*")  # no summary over insufficient groups
    assert curves == []  # even "all" has only 4 genuine pairs
    assert not one(rows, category="all", value="all", metric="fmr@usual").insufficient  # 24 impostor pairs
    assert one(rows, category="gender", value="man", metric="eer").insufficient


def test_bootstrap_interval_covers_estimate_and_is_seeded():
    rng = np.random.default_rng(0)
    subjects = [f"s{i // 3}" for i in range(120)]
    base = rng.normal(size=(40, 16))
    emb = np.repeat(base, 3, axis=0) + rng.normal(scale=0.3, size=(120, 16))
    labels = [{"gender": "woman" if (i // 3) % 2 else "man"} for i in range(120)]
    pairs = M.make_pairs(subjects)
    d = M.pair_distances(emb, pairs.a, pairs.b)
    kw = dict(thresholds={"usual": 2.0}, min_group_size=10, n_boot=100, seed=7)
    r1, _ = M.verification_metrics(d, pairs, subjects, labels, **kw)
    r2, _ = M.verification_metrics(d, pairs, subjects, labels, **kw)
    assert [x.as_dict() for x in r1] == [x.as_dict() for x in r2]
    for r in r1:
        if r.metric in ("fmr@usual", "fnmr@usual") and not r.insufficient:
            assert r.ci_low <= r.estimate <= r.ci_high


def test_cosine_distance():
    emb = np.array([[1.0, 0.0], [0.0, 2.0], [3.0, 0.0]])
    d = M.pair_distances(emb, np.array([0, 0]), np.array([1, 2]), "cosine")
    assert d == pytest.approx([1.0, 0.0])


def test_worst_best_ratio_and_log10_by_hand():
    d, pairs, subjects, labels = _verif_case()
    rows, _ = M.verification_metrics(d, pairs, subjects, labels, thresholds={"loose": 1.05}, min_group_size=1,
                                     n_boot=50)
    # Within-group impostor distances: women 1.0, 1.3, 0.9, 1.2 (2 of 4 match); men 0.2, 1.0, 0.3, 0.5 (all match).
    assert one(rows, category="gender", value="woman", metric="fmr@loose").estimate == 0.5
    assert one(rows, category="gender", value="man", metric="fmr@loose").estimate == 1.0
    assert one(rows, category="gender", value="*", metric="fmr_ratio@loose").estimate == pytest.approx(2.0)
    assert one(rows, category="gender", value="*", metric="log10_fmr_ratio@loose").estimate == pytest.approx(math.log10(2))
    # No false non-match in either group: the ratio is undefined, stored without a number.
    undefined = one(rows, category="gender", value="*", metric="fnmr_ratio@loose")
    assert undefined.estimate is None and undefined.note == "undefined"
