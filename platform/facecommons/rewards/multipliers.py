"""Scarcity multipliers: what a photo with given category values earns relative to the base.

Definition (published on /rewards/multipliers/):

* For each category value, ``count`` = approved photos whose *effective* categories
  (declared, with moderator corrections applied) contain it.
* Within a category, the best-represented value earns 1.0; a value ``k`` times rarer earns
  ``k`` (that is ``1 / share`` normalised by the largest share), capped at
  ``REWARDS_MAX_MULTIPLIER``. A value nobody has yet earns the cap; a category nobody has
  declared yet is neutral (1.0). Normalising by the largest share rather than by a perfectly
  balanced share keeps the numbers meaningful on a small dataset and never pays less than the
  base.
* "Prefer not to say" and free-text "self-describe" values carry no premium (1.0): they cannot
  be checked by moderators, so a premium would invite gaming.
* A photo's multiplier is the multiplier of its scarcest category (max over categories), and
  within a multi-valued category the multiplier of its most common declared value (min over
  values). Taking the max across categories rather than the product keeps the result bounded
  by the cap and stops stacking; taking the min within a category means adding an extra,
  rarer value to a declaration can never raise what the photo earns.

The table is computed into a :class:`MultiplierSnapshot` and reused for
``REWARDS_MULTIPLIER_TTL_SECONDS``: approvals use exactly the published numbers, and one
approval does not scan the dataset.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.utils import timezone

from facecommons.common.tunables import tunables
from facecommons.contributions.models import Category, Contribution, ContributionStatus
from facecommons.rewards.models import MultiplierSnapshot

FOUR_PLACES = Decimal("0.0001")
TWO_PLACES = Decimal("0.01")
NO_PREMIUM_KEYS = {"prefer_not_to_say"}


def base_points() -> int:
    return tunables.REWARDS_BASE_POINTS


def max_multiplier() -> Decimal:
    return Decimal(str(tunables.REWARDS_MAX_MULTIPLIER)).quantize(TWO_PLACES)


def _eligible_values() -> dict[str, list[tuple[str, str]]]:
    """{category key: [(value key, label)]} of the current taxonomy, premium-eligible values only."""
    out: dict[str, list[tuple[str, str]]] = {}
    cats = Category.objects.filter(taxonomy__is_current=True).prefetch_related("values").order_by("order", "id")
    for cat in cats:
        out[cat.key] = [(v.key, v.label) for v in cat.values.all()
                        if v.key not in NO_PREMIUM_KEYS and not v.free_text]
    return out


def _as_list(value: Any) -> list[str]:
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    if value in (None, ""):
        return []
    return [str(value)]


def multipliers_compute() -> MultiplierSnapshot:
    """Count approved photos per effective category value and store a new snapshot."""
    eligible = _eligible_values()
    counts: dict[str, Counter[str]] = {k: Counter() for k in eligible}
    total = 0
    rows = (Contribution.objects.filter(status=ContributionStatus.APPROVED)
            .values_list("categories", "corrected_categories").iterator(chunk_size=2000))
    for declared, corrected in rows:
        total += 1
        effective = {**(declared or {}), **(corrected or {})}
        for key, values in eligible.items():
            allowed = {v for v, _ in values}
            for v in set(_as_list(effective.get(key))):
                if v in allowed:
                    counts[key][v] += 1
    cap = max_multiplier()
    data: dict[str, dict[str, str]] = {}
    for key, values in eligible.items():
        top = max(counts[key].values(), default=0)
        data[key] = {}
        for v, _ in values:
            n = counts[key][v]
            if top == 0:
                m = Decimal(1)
            elif n == 0:
                m = cap
            else:
                m = min(cap, Decimal(top) / Decimal(n))
            data[key][v] = str(m.quantize(FOUR_PLACES, rounding=ROUND_HALF_UP))
    return MultiplierSnapshot.objects.create(
        approved_total=total, data=data, counts={k: dict(c) for k, c in counts.items()},
        base_points=base_points(), max_multiplier=cap,
    )


def multipliers_current(*, refresh: bool = False) -> MultiplierSnapshot:
    """The latest snapshot, recomputed when older than the TTL or when base/cap changed."""
    ttl = tunables.REWARDS_MULTIPLIER_TTL_SECONDS
    snap = MultiplierSnapshot.objects.order_by("-created_at", "-id").first()
    if (refresh or snap is None or snap.created_at < timezone.now() - timedelta(seconds=ttl)
            or snap.base_points != base_points() or snap.max_multiplier != max_multiplier()):
        snap = multipliers_compute()
    return snap


def multiplier_for(categories: dict[str, Any], snapshot: MultiplierSnapshot) -> Decimal:
    """The multiplier of a photo with these effective categories (see the module docstring)."""
    best = Decimal(1)
    for key, table in snapshot.data.items():
        declared = [table[v] for v in set(_as_list(categories.get(key))) if v in table]
        if not declared:
            continue
        category_m = min(Decimal(m) for m in declared)
        best = max(best, category_m)
    return best.quantize(FOUR_PLACES)


def multipliers_table(snapshot: MultiplierSnapshot) -> list[dict[str, Any]]:
    """Rows for the public page and API: one per category with its values."""
    labels = {c.key: (c.display_label, {v.key: v.display_label for v in c.values.all()})
              for c in Category.objects.filter(taxonomy__is_current=True).prefetch_related("values")}
    out = []
    for key, table in snapshot.data.items():
        cat_label, value_labels = labels.get(key, (key, {}))
        values = [{"value": v, "label": value_labels.get(v, v), "multiplier": m,
                   "points": str((Decimal(snapshot.base_points) * Decimal(m)).quantize(TWO_PLACES)),
                   "approved_photos": snapshot.counts.get(key, {}).get(v, 0)}
                  for v, m in table.items()]
        out.append({"category": key, "label": cat_label, "values": values})
    return out
