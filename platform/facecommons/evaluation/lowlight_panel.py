"""The dashboard's low-light stress panel of one detector: per group and light level, the
detection rate on the dark copy, with the platform's enhancement, and the share won back."""

from __future__ import annotations

from typing import Any

from facecommons.evaluation import selectors
from facecommons.evaluation.labels import CategoryLabels

SHOWN_CATEGORIES = ("all", "ethnicity", "skin_tone", "gender")


def _cell(m: Any) -> dict[str, Any] | None:
    if m is None:
        return None
    pm = selectors.public_metric(m)
    return {**pm, "insufficient": m.insufficient, "note": m.note}


def panel(metrics: list[Any], summary: dict[str, Any]) -> dict[str, Any] | None:
    low = summary.get("lowlight") or {}
    levels = low.get("levels") or []
    if not levels:
        return None
    index = {(m.category, m.value, m.metric): m for m in metrics if m.metric.startswith("lowlight_")}
    groups = sorted({(c, v) for c, v, _ in index if c in SHOWN_CATEGORIES},
                    key=lambda cv: (SHOWN_CATEGORIES.index(cv[0]), cv[1]))
    lit = {(m.category, m.value): m for m in metrics if m.metric == "detection_rate"}
    labels = CategoryLabels()
    rows = []
    for cat, value in groups:
        cells = []
        for level in levels:
            key = f"{level:g}"
            cells.append({"level": key, "dark": _cell(index.get((cat, value, f"lowlight_rate@{key}"))),
                          "enhanced": _cell(index.get((cat, value, f"lowlight_enhanced_rate@{key}"))),
                          "won_back": _cell(index.get((cat, value, f"lowlight_won_back@{key}")))})
        rows.append({"category": labels.category(cat), "value": labels.value(cat, value),
                     "lit": _cell(lit.get((cat, value))), "cells": cells})
    return {"levels": [f"{x:g}" for x in levels], "rows": rows, "photos": low.get("photos", 0)}
