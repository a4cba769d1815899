"""The dashboard's words: measures, tasks and category values as people read them.

Metric keys (``fnmr@target``) and category keys (``skin_tone``, ``25_34``) stay in the CSV,
JSON and API; pages show these labels, in the reader's language.
"""

from __future__ import annotations

from django.utils.translation import gettext, gettext_lazy

from facecommons.contributions.models import Category

METRIC_LABELS = {
    "detection_rate": gettext_lazy("Faces found"),
    "fmr@target": gettext_lazy("False matches (strict threshold)"),
    "fnmr@target": gettext_lazy("Missed matches (strict threshold)"),
    "fmr@usual": gettext_lazy("False matches (usual threshold)"),
    "fnmr@usual": gettext_lazy("Missed matches (usual threshold)"),
    "eer": gettext_lazy("Equal error rate"),
    "detection_gap": gettext_lazy("Gap in faces found (best minus worst group)"),
    "gn_score": gettext_lazy("Fairness score (1 is equal for all groups)"),
    "gn_score@usual": gettext_lazy("Fairness score at the usual threshold (1 is equal)"),
    "fmr_ratio@target": gettext_lazy("False matches: worst group ÷ best group"),
    "log10_fmr_ratio@target": gettext_lazy("False matches: worst ÷ best group (log10)"),
    "fnmr_ratio@target": gettext_lazy("Missed matches: worst group ÷ best group"),
    "fdr@target": gettext_lazy("Fairness discrepancy rate (strict threshold)"),
    "fdr@usual": gettext_lazy("Fairness discrepancy rate (usual threshold)"),
}

TASK_LABELS = {
    "detection": gettext_lazy("face detection"),
    "embedding": gettext_lazy("face verification"),
    "verification": gettext_lazy("face verification"),
}


def metric_label(key: str) -> str:
    return str(METRIC_LABELS.get(key, key))


def task_label(key: str) -> str:
    return str(TASK_LABELS.get(key, key))


class CategoryLabels:
    """Category and value labels of the current taxonomy (one query), falling back to the key."""

    def __init__(self) -> None:
        cats = Category.objects.filter(taxonomy__is_current=True).prefetch_related("values")
        self.categories = {c.key: c.display_label for c in cats}
        self.values = {(c.key, v.key): v.display_label for c in cats for v in c.values.all()}

    def category(self, key: str) -> str:
        # Intersections are stored as "a&b".
        return " × ".join(self.categories.get(k, k) for k in key.split("&"))

    def value(self, category: str, value: str) -> str:
        if value in ("", "all"):
            return gettext("everyone")
        return self.values.get((category, value), value)
