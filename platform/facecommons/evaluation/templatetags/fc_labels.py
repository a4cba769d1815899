"""Template filters that show stored keys by their label, in the reader's language.

``{{ r.category|category_label }}``, ``{{ r.value|value_label:r.category }}`` and
``{{ r.metric|metric_label }}``: category keys (``skin_tone``, ``gender&ethnicity``), value
keys (``25_34``) and measure keys (``fnmr@target``) never reach a page raw.
"""

from __future__ import annotations

import threading
from typing import Any

from django import template
from django.core.signals import request_finished, request_started
from django.utils.translation import get_language

from facecommons.evaluation.labels import CategoryLabels
from facecommons.evaluation.labels import metric_label as _metric_label

register = template.Library()

# A page of results labels hundreds of cells: the taxonomy's labels are read once per request
# and language, not once per cell. Kept only while a request runs (a taxonomy edited between
# two requests shows at once); outside a request every call reads afresh.
_request = threading.local()


def _begin(**kwargs: Any) -> None:
    _request.labels = {}


def _end(**kwargs: Any) -> None:
    _request.labels = None


request_started.connect(_begin, dispatch_uid="fc_labels-begin")
request_finished.connect(_end, dispatch_uid="fc_labels-end")


def _labels() -> CategoryLabels:
    memo: dict[str, CategoryLabels] | None = getattr(_request, "labels", None)
    if memo is None:
        return CategoryLabels()
    lang = get_language() or ""
    if lang not in memo:
        memo[lang] = CategoryLabels()
    return memo[lang]


@register.filter
def category_label(key: object) -> str:
    return _labels().category(str(key or ""))


@register.filter
def value_label(value: object, category: object) -> str:
    return _labels().value(str(category or ""), str(value or ""))


@register.filter
def metric_label(key: object) -> str:
    return _metric_label(str(key or ""))
