"""Person-disjoint, stratified train/validation/test splits: a pure function."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

SPLITS = ("train", "validation", "test")
RATIOS = {"train": 0.8, "validation": 0.1, "test": 0.1}

_TONE_BAND = {"1": "light", "2": "light", "3": "light", "4": "medium", "5": "medium", "6": "medium",
              "7": "medium", "8": "dark", "9": "dark", "10": "dark"}


def _first(value: Any) -> str:
    if isinstance(value, list):
        return str(value[0]) if value else ""
    return "" if value is None else str(value)


def stratum_of(categories: dict[str, Any]) -> str:
    """The stratum a photo votes for: gender, age range and a coarse skin-tone band."""
    band = _TONE_BAND.get(_first(categories.get("skin_tone")), "undeclared")
    return "|".join([_first(categories.get("gender")) or "undeclared",
                     _first(categories.get("age_range")) or "undeclared", band])


def assign_splits(subjects: Iterable[tuple[str, str, int]], *, seed: str,
                  fixed: dict[str, str] | None = None,
                  prior: Mapping[str, Mapping[str, int]] | None = None) -> dict[str, str]:
    """Person-disjoint, stratified train/validation/test assignment.

    ``subjects``: (subject_id, stratum, photo count). ``fixed``: splits of people already
    published, which they keep, so that nobody moves from train to test between versions.
    New people are assigned greedily, largest first, to the split furthest below its 80/10/10
    target, counting both the stratum and the whole dataset (so small strata still balance
    overall). A pure function of its arguments: the same snapshot always gets the same splits.

    ``prior``: photos per stratum and split of people *not* in ``subjects`` (the next version's
    build passes only the new people, and the counts it carries over from the previous version,
    each photo under its own stratum).
    """
    fixed = fixed or {}
    prior = prior or {}
    by_stratum: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for sid, stratum, n in sorted(subjects):
        by_stratum[stratum].append((sid, n))
    total: Counter[str] = Counter()
    for per_split in prior.values():
        total.update({s: n for s, n in per_split.items() if s in RATIOS})
    for stratum in sorted(by_stratum):
        for sid, n in by_stratum[stratum]:
            if sid in fixed:
                total[fixed[sid]] += n
    result: dict[str, str] = {}
    for stratum in sorted(by_stratum):
        local: Counter[str] = Counter({s: n for s, n in prior.get(stratum, {}).items() if s in RATIOS})
        new: list[tuple[str, int]] = []
        for sid, n in by_stratum[stratum]:
            if sid in fixed:
                result[sid] = fixed[sid]
                local[fixed[sid]] += n
            else:
                new.append((sid, n))
        rng = random.Random(f"{seed}:{stratum}")
        rng.shuffle(new)
        new.sort(key=lambda x: -x[1])  # stable: ties keep the seeded order
        for sid, n in new:
            local_total = sum(local.values()) + n
            grand_total = sum(total.values()) + n

            best = max(SPLITS, key=lambda s, lt=local_total, gt=grand_total, loc=local:  # type: ignore[misc]
                       (RATIOS[s] * lt - loc[s] + RATIOS[s] * gt - total[s], RATIOS[s]))
            result[sid] = best
            local[best] += n
            total[best] += n
    return result
