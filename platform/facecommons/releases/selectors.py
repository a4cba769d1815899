"""Reads: public statistics, snapshot lists, the researcher's page."""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.utils.translation import gettext, gettext_lazy

from facecommons.accounts.roles import is_admin
from facecommons.common.tunables import tunables
from facecommons.contributions.models import Category, CategoryValue, Contribution, ContributionStatus
from facecommons.evaluation.selectors import public_metric, run_latest_done, run_metrics
from facecommons.releases.archive.documents import INTERSECTIONS, UNDECLARED, _values
from facecommons.releases.models import Snapshot, SnapshotStatus


def stats_min_count() -> int:
    return tunables.STATS_MIN_COUNT


def _cell(n: int, k: int) -> dict[str, Any]:
    suppressed = 0 < n < k
    return {"count": None if suppressed else n, "suppressed": suppressed,
            "display": gettext("fewer than %(k)s") % {"k": k} if suppressed else str(n)}


def stats_compute() -> dict[str, Any]:
    """Approved photos per category value, main intersections, undeclared shares, monthly growth.

    Counts from 1 to k-1 are suppressed (``count`` None, ``suppressed`` true) so that nobody
    is singled out; shares are computed only where the numerator is not suppressed.
    """
    k = stats_min_count()
    cats = list(Category.objects.filter(taxonomy__is_current=True).order_by("order", "id"))
    labels = {(v.category.key, v.key): v.display_label for v in CategoryValue.objects.filter(category__in=cats)
              .select_related("category")}
    per_value: dict[str, Counter[str]] = {c.key: Counter() for c in cats}
    pairs: dict[tuple[str, str], Counter[tuple[str, str]]] = {p: Counter() for p in INTERSECTIONS}
    months: Counter[str] = Counter()
    total = 0
    qs = (Contribution.objects.filter(status=ContributionStatus.APPROVED)
          .values_list("categories", "corrected_categories", "status_changed_at"))
    for declared, corrected, approved_at in qs.iterator(chunk_size=2000):
        total += 1
        eff = {**(declared or {}), **(corrected or {})}
        for key, counter in per_value.items():
            for v in _values(eff.get(key)):
                counter[v] += 1
        for (a, b), counter2 in pairs.items():
            for va in _values(eff.get(a)):
                for vb in _values(eff.get(b)):
                    counter2[(va, vb)] += 1
        months[f"{approved_at:%Y-%m}"] += 1

    categories = []
    for c in cats:
        counter = per_value[c.key]
        values = []
        order = [v.key for v in c.values.all().order_by("order", "id")]
        for vkey in order + sorted(set(counter) - set(order)):
            values.append({"value": vkey, "label": labels.get((c.key, vkey), vkey), **_cell(counter.get(vkey, 0), k)})
        undeclared = counter.get(UNDECLARED, 0)
        undeclared_cell = _cell(undeclared, k)
        share = None if undeclared_cell["suppressed"] or not total else round(undeclared / total, 4)
        categories.append({"key": c.key, "label": c.display_label, "multiple": c.multiple, "values": values,
                           "undeclared": {**undeclared_cell, "share": share}})
    intersections = []
    for (a, b), counter2 in pairs.items():
        cells = [{"a": va, "b": vb, "a_label": labels.get((a, va), va), "b_label": labels.get((b, vb), vb),
                  **_cell(n, k)} for (va, vb), n in sorted(counter2.items())]
        names = {c.key: c.display_label for c in cats}
        intersections.append({"name": f"{a} × {b}", "label": f"{names.get(a, a)} × {names.get(b, b)}",
                              "a": a, "b": b, "cells": cells})
    growth = []
    cumulative = 0
    for month in sorted(months):
        cumulative += months[month]
        growth.append({"month": month, **_cell(months[month], k), "cumulative": cumulative})
    return {"min_count": k, "approved_photos": total, "categories": categories, "intersections": intersections,
            "growth": growth}


def snapshots_visible(user: Any) -> Any:
    qs = Snapshot.objects.select_related("previous", "purge_of").order_by("-created_at", "-id")
    if not is_admin(user):
        qs = qs.filter(status=SnapshotStatus.PUBLISHED)
    return qs


# What each build phase (Snapshot.phase) means to the person watching the progress bar.
PHASE_LABELS = {
    "queued": gettext_lazy("waiting to start"),
    "selecting": gettext_lazy("choosing the photos"),
    "checking": gettext_lazy("checking the files"),
    "packing": gettext_lazy("packing the photos"),
    "metadata": gettext_lazy("writing the documentation"),
    "failed": gettext_lazy("failed"),
    "published": gettext_lazy("published"),
}


def phase_label(phase: str) -> str:
    return str(PHASE_LABELS.get(phase, phase))


def snapshot_progress(snap: Snapshot) -> dict[str, Any]:
    pct = 100.0 if snap.status == SnapshotStatus.PUBLISHED else (
        round(100.0 * snap.progress_done / snap.progress_total, 1) if snap.progress_total else 0.0)
    return {"version": snap.version, "status": snap.status, "phase": snap.phase, "phase_label": phase_label(snap.phase),
            "done": snap.progress_done,
            "total": snap.progress_total, "percent": pct, "error": snap.error if snap.status == "failed" else ""}


def evaluation_findings() -> str:
    """Known biases from the latest finished evaluation, for croissant.json: per model, the
    detection rate (or false non-match rate) of the best and worst shown group."""
    run = run_latest_done()
    if run is None:
        return "No evaluation has finished yet; see the bias dashboard."
    parts = []
    by_model: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for m in run_metrics(run).filter(metric__in=["detection_rate", "fnmr@usual"]).exclude(value="*"):
        shown = public_metric(m)
        if shown["estimate"] is not None:
            by_model.setdefault((m.model_id, m.metric), []).append(shown)
    for (model, metric), rows in sorted(by_model.items()):
        lo = min(rows, key=lambda r: r["estimate"])
        hi = max(rows, key=lambda r: r["estimate"])
        if lo is not hi:
            parts.append(f"{model}: {metric} {lo['estimate']:.3f} for {lo['category']}={lo['value']} vs "
                         f"{hi['estimate']:.3f} for {hi['category']}={hi['value']}")
    finished = f"{run.finished_at:%Y-%m-%d}" if run.finished_at else ""
    head = f"Latest evaluation (run {run.pk}, {run.scope_key}, {finished}): "
    return head + ("; ".join(parts) if parts else "no group differences could be shown (small groups are hidden).")
