"""Template filters that show stored keys by their label, in the reader's language.

``{{ r.category|category_label }}``, ``{{ r.value|value_label:r.category }}`` and
``{{ r.metric|metric_label }}``: category keys (``skin_tone``, ``gender&ethnicity``), value
keys (``25_34``) and measure keys (``fnmr@target``) never reach a page raw.
"""

from __future__ import annotations

from django import template

from facecommons.evaluation.labels import CategoryLabels
from facecommons.evaluation.labels import metric_label as _metric_label

register = template.Library()


@register.filter
def category_label(key: object) -> str:
    return CategoryLabels().category(str(key or ""))


@register.filter
def value_label(value: object, category: object) -> str:
    return CategoryLabels().value(str(category or ""), str(value or ""))


@register.filter
def metric_label(key: object) -> str:
    return _metric_label(str(key or ""))
