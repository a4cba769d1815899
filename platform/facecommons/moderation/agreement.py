"""Inter-moderator agreement: Cohen's kappa (pairs) and Fleiss' kappa (many raters).

A rating is ``approve`` (approvals and approvals with a correction) or ``reject:<reason>``;
skips and escalations are not ratings.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any


def cohen_kappa(pairs: Sequence[tuple[Hashable, Hashable]]) -> float | None:
    """Cohen's kappa of two raters over items rated by both: (p_o − p_e) / (1 − p_e).

    None without items; 1.0 when both raters always gave the same single label (p_e = 1).
    """
    n = len(pairs)
    if n == 0:
        return None
    po = sum(1 for a, b in pairs if a == b) / n
    ca = Counter(a for a, _ in pairs)
    cb = Counter(b for _, b in pairs)
    pe = sum(ca[k] * cb[k] for k in ca) / (n * n)
    if pe == 1.0:
        return 1.0 if po == 1.0 else 0.0
    return (po - pe) / (1 - pe)


def fleiss_kappa(items: Iterable[Sequence[Hashable]]) -> float | None:
    """Fleiss' kappa over items, each a list of the labels its raters gave.

    Items with fewer than two ratings are left out; items may have different numbers of raters
    (P_i uses each item's own n_i). p_j is the share of all ratings in category j.
    """
    rows = [Counter(labels) for labels in items if len(labels) >= 2]
    if not rows:
        return None
    total = sum(sum(r.values()) for r in rows)
    pj: Counter[Hashable] = Counter()
    p_items = []
    for r in rows:
        n_i = sum(r.values())
        pj.update(r)
        p_items.append((sum(v * v for v in r.values()) - n_i) / (n_i * (n_i - 1)))
    p_bar = sum(p_items) / len(p_items)
    pe = sum((v / total) ** 2 for v in pj.values())
    if pe == 1.0:
        return 1.0 if p_bar == 1.0 else 0.0
    return (p_bar - pe) / (1 - pe)


@dataclass
class ModeratorAgreement:
    moderator_id: Any
    label: str
    ratings: int
    shared_items: int
    kappa: float | None
    agreement: float | None


def agreement_report(ratings: Iterable[tuple[Any, Any, str]], labels: dict[Any, str] | None = None
                     ) -> dict[str, Any]:
    """From (item, moderator, label) triples: per moderator, the pooled Cohen's kappa with all
    others (every pair of their rating and another moderator's rating of the same item),
    the overall mean pairwise Cohen's kappa, and Fleiss' kappa."""
    by_item: dict[Any, dict[Any, str]] = defaultdict(dict)
    for item, mod, label in ratings:
        by_item[item][mod] = label
    per_mod_pairs: dict[Any, list[tuple[str, str]]] = defaultdict(list)
    pair_lists: dict[tuple[Any, Any], list[tuple[str, str]]] = defaultdict(list)
    counts: Counter[Any] = Counter()
    for item_ratings in by_item.values():
        for mod in item_ratings:
            counts[mod] += 1
        for a, b in combinations(sorted(item_ratings, key=str), 2):
            la, lb = item_ratings[a], item_ratings[b]
            per_mod_pairs[a].append((la, lb))
            per_mod_pairs[b].append((lb, la))
            pair_lists[(a, b)].append((la, lb))
    moderators = []
    for mod in sorted(counts, key=lambda m: (labels or {}).get(m, str(m))):
        pairs = per_mod_pairs.get(mod, [])
        moderators.append(ModeratorAgreement(
            moderator_id=mod, label=(labels or {}).get(mod, str(mod)), ratings=counts[mod],
            shared_items=len({i for i, r in by_item.items() if mod in r and len(r) > 1}), kappa=cohen_kappa(pairs),
            agreement=(sum(1 for a, b in pairs if a == b) / len(pairs)) if pairs else None))
    pair_kappas = [(k, cohen_kappa(v), len(v)) for k, v in pair_lists.items()]
    weighted = [(kap, n) for _, kap, n in pair_kappas if kap is not None]
    overall_cohen = (sum(k * n for k, n in weighted) / sum(n for _, n in weighted)) if weighted else None
    return {"moderators": moderators, "cohen_overall": overall_cohen,
            "fleiss": fleiss_kappa(list(r.values()) for r in by_item.values()),
            "items_with_two_or_more": sum(1 for r in by_item.values() if len(r) >= 2),
            "pairs": [{"a": (labels or {}).get(a, str(a)), "b": (labels or {}).get(b, str(b)), "kappa": k, "items": n}
                      for (a, b), k, n in pair_kappas]}


def review_label(decision: str, reason_code: str) -> str | None:
    if decision in ("approve", "correct"):
        return "approve"
    if decision == "reject":
        return f"reject:{reason_code}"
    return None
