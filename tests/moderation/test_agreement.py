"""Cohen's and Fleiss' kappa against hand-computed values."""

from __future__ import annotations

import pytest

from facecommons.moderation.agreement import agreement_report, cohen_kappa, fleiss_kappa


def test_cohen_textbook():
    # 50 items: both yes 20, A yes/B no 5, A no/B yes 10, both no 15.
    # p_o = 35/50 = 0.7; p_e = 0.5·0.6 + 0.5·0.4 = 0.5; κ = 0.2/0.5 = 0.4.
    pairs = [("y", "y")] * 20 + [("y", "n")] * 5 + [("n", "y")] * 10 + [("n", "n")] * 15
    assert cohen_kappa(pairs) == pytest.approx(0.4)


def test_cohen_edge_cases():
    assert cohen_kappa([]) is None
    assert cohen_kappa([("a", "a")] * 4) == 1.0
    # Always opposite with balanced marginals: p_o = 0, p_e = 0.5, κ = -1.
    assert cohen_kappa([("a", "b"), ("b", "a")]) == pytest.approx(-1.0)


def test_fleiss_textbook():
    # Fleiss (1971) as worked on Wikipedia: 10 subjects, 14 raters, 5 categories; κ ≈ 0.210.
    table = [[0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
             [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7]]
    items = [[cat for cat, n in enumerate(row) for _ in range(n)] for row in table]
    assert fleiss_kappa(items) == pytest.approx(0.20993, abs=1e-4)


def test_fleiss_by_hand_small():
    # 3 items, 2 raters: (a,a), (a,b), (b,b). P_i = 1, 0, 1 → P̄ = 2/3; p_a = p_b = 1/2 → P_e = 1/2.
    # κ = (2/3 − 1/2)/(1/2) = 1/3.
    assert fleiss_kappa([["a", "a"], ["a", "b"], ["b", "b"], ["x"]]) == pytest.approx(1 / 3)


def test_report_per_moderator():
    # Items 1–4 rated by m1 and m2; item 3 also by m3.
    ratings = [(1, "m1", "approve"), (1, "m2", "approve"), (2, "m1", "reject:poor_quality"),
               (2, "m2", "reject:poor_quality"), (3, "m1", "approve"), (3, "m2", "reject:duplicate"),
               (3, "m3", "approve"), (4, "m1", "approve"), (4, "m2", "approve"), (5, "m3", "approve")]
    rep = agreement_report(ratings)
    by = {m.moderator_id: m for m in rep["moderators"]}
    # m1 vs others: (A,A) (R,R) (A,Rd) (A,A) (A,A) over 5 pairs; p_o = 4/5.
    # m1 marginals: A 4, Rq 1; others: A 3, Rq 1, Rd 1 → p_e = (4·3 + 1·1)/25 = 13/25.
    # κ = (0.8 − 0.52)/(0.48) = 0.58333.
    assert by["m1"].kappa == pytest.approx((0.8 - 13 / 25) / (1 - 13 / 25))
    assert by["m1"].ratings == 4 and by["m3"].ratings == 2 and by["m3"].shared_items == 1
    assert rep["items_with_two_or_more"] == 4
