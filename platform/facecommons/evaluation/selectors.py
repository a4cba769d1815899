"""Reading evaluation results for the API, the dashboard and the downloads.

Public output goes through :func:`public_metric`, which applies the statistics page's
small-count protection (``STATS_MIN_COUNT``, default 5): a group with fewer photos or pairs
than that shows neither its n nor its numbers."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from facecommons.common.tunables import tunables
from facecommons.evaluation.labels import CategoryLabels
from facecommons.evaluation.models import CurveResult, EvaluationRun, MetricResult, RunStatus
from facecommons.moderation.models import FlagKind

TASK_LABEL = {"detection": "detection", "verification": "verification"}


def stats_min_count() -> int:
    return tunables.STATS_MIN_COUNT


def runs_done() -> QuerySet[EvaluationRun]:
    return EvaluationRun.objects.filter(status=RunStatus.DONE).order_by("-finished_at", "-pk")


def run_latest_done(scope_key: str | None = None) -> EvaluationRun | None:
    qs = runs_done()
    if scope_key:
        qs = qs.filter(scope_key=scope_key)
    return qs.first()


def is_hidden(n: int | None, value: str) -> bool:
    """Groups (not summaries over groups) below the small-count limit are hidden."""
    return value != "*" and n is not None and n < stats_min_count()


def public_metric(m: MetricResult) -> dict[str, Any]:
    hidden = is_hidden(m.n, m.value)
    shown = not hidden and not m.insufficient
    return {
        "category": m.category, "value": m.value, "metric": m.metric,
        "estimate": m.estimate if shown else None,
        "n": None if hidden else m.n,
        "ci_low": m.ci_low if shown else None,
        "ci_high": m.ci_high if shown else None,
    }


def run_metrics(run: EvaluationRun) -> QuerySet[MetricResult]:
    return MetricResult.objects.filter(run=run).order_by("model_id", "metric", "category", "value")


def run_payload(run: EvaluationRun) -> dict[str, Any]:
    """The API shape: {"id","scope","snapshot","started_at","finished_at","models":[...]}."""
    by_model: dict[str, list[dict[str, Any]]] = {}
    for m in run_metrics(run):
        by_model.setdefault(m.model_id, []).append(public_metric(m))
    return {
        "id": run.pk,
        "scope": run.scope,
        "snapshot": run.snapshot_version or None,
        "started_at": run.started_at.isoformat().replace("+00:00", "Z") if run.started_at else None,
        "finished_at": run.finished_at.isoformat().replace("+00:00", "Z") if run.finished_at else None,
        "models": [{"id": s["id"], "version": s["version"], "task": TASK_LABEL.get(s["task"], s["task"]),
                    "metrics": by_model.get(s["id"], [])} for s in run.model_specs],
    }


def run_curves(run: EvaluationRun, model_id: str, category: str) -> list[CurveResult]:
    return [c for c in CurveResult.objects.filter(run=run, model_id=model_id, category=category).order_by("value")
            if not is_hidden(min(c.n_genuine, c.n_impostor), c.value)]


def run_rows(run: EvaluationRun) -> list[dict[str, Any]]:
    """Flat rows for CSV/JSON downloads (public, protected like the API)."""
    versions = {s["id"]: (s["version"], s["task"]) for s in run.model_specs}
    out = []
    for m in run_metrics(run):
        version, task = versions.get(m.model_id, (m.model_version, m.task))
        out.append({"run": run.pk, "scope": run.scope_key, "model": m.model_id, "version": version, "task": task,
                    **public_metric(m), "insufficient": m.insufficient, "note": m.note})
    return out


def trend(scope_key: str, model_id: str, metric: str, category: str = "all", value: str = "all",
          limit: int = 30) -> list[dict[str, Any]]:
    """The metric over the last ``limit`` finished runs of a scope, oldest first."""
    runs = list(runs_done().filter(scope_key=scope_key)[:limit])
    rows = {m.run_id: m for m in MetricResult.objects.filter(run__in=runs, model_id=model_id, metric=metric,
                                                               category=category, value=value)}
    out = []
    for run in reversed(runs):
        m = rows.get(run.pk)
        if m is None:
            continue
        pm = public_metric(m)
        out.append({"run": run.pk, "finished_at": run.finished_at, "version": m.model_version, **pm})
    return out


# --- the gatekeeper audit (evaluation.gatekeeper) ----------------------------------------

GATEKEEPER_COLUMNS = ("flagged", "not_queued", "review_requested", "finding_overturned", "detector_missed")


def gatekeeper_public_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The audit's rows with the statistics page's small-count protection applied."""
    out = []
    for r in rows:
        hidden = is_hidden(r.get("n"), r["value"])
        shown = not hidden and not r.get("insufficient")
        out.append({"category": r["category"], "value": r["value"], "metric": r["metric"],
                    "estimate": r["estimate"] if shown else None, "n": None if hidden else r["n"],
                    "ci_low": r["ci_low"] if shown else None, "ci_high": r["ci_high"] if shown else None,
                    "insufficient": bool(r.get("insufficient")) and not hidden})
    return out


def gatekeeper_payload(audit: Any) -> dict[str, Any]:
    """The API shape of an audit (public)."""
    return {"computed_at": audit.created_at.isoformat().replace("+00:00", "Z"), "photos": audit.photos,
            "min_count": stats_min_count(), "alerts": audit.alerts, "rows": gatekeeper_public_rows(audit.rows)}


def _cell(r: dict[str, Any] | None) -> str:
    if r is None:
        return "—"
    if r["n"] is None:
        return str(_("fewer than %(k)d") % {"k": stats_min_count()})
    if r["insufficient"]:
        return str(_("insufficient data (n=%(n)d)") % {"n": r["n"]})
    if r["estimate"] is None:
        return "—"
    return f"{r['estimate']:.0%} [{r['ci_low']:.0%}, {r['ci_high']:.0%}] n={r['n']}"


def _column_label(column: str) -> str:
    labels = {
        "flagged": _("Flagged by the pipeline"), "not_queued": _("Not sent to review"),
        "review_requested": _("Of those, a person was asked"), "finding_overturned": _("Findings overturned by people"),
        "detector_missed": _("Approved photos the detector missed"),
    }
    if column in labels:
        return str(labels[column])
    what, kind = column.split(":", 1)
    kind_label = dict(FlagKind.choices).get(kind, kind)
    if what == "flag_raised":
        return str(_("Flag raised: %(kind)s") % {"kind": kind_label})
    return str(_("Flag dismissed: %(kind)s") % {"kind": kind_label})


def gatekeeper_tables(audit: Any) -> dict[str, Any]:
    """Per single category (and overall): one row per group, one cell per measure, for pages.
    The intersections are in the API and its download."""
    rows = gatekeeper_public_rows(audit.rows)
    kinds = sorted({r["metric"].split(":", 1)[1] for r in rows if r["metric"].startswith("flag_raised:")})
    columns = [*GATEKEEPER_COLUMNS, *(f"flag_{w}:{k}" for k in kinds for w in ("raised", "dismissed"))]
    by_key = {(r["category"], r["value"], r["metric"]): r for r in rows}
    gaps = {(r["category"], r["metric"][:-4]): r for r in rows if r["value"] == "*" and r["metric"].endswith("_gap")}

    labels = CategoryLabels()
    tables = []
    for category in dict.fromkeys(r["category"] for r in rows if "&" not in r["category"]):
        values = list(dict.fromkeys(r["value"] for r in rows if r["category"] == category and r["value"] != "*"))
        groups = [{"value": v, "value_label": labels.value(category, v),
                   "cells": [_cell(by_key.get((category, v, c))) for c in columns]} for v in values]
        gap_cells = []
        for c in columns:
            g = gaps.get((category, c))
            gap_cells.append("—" if g is None or g["estimate"] is None else f"{g['estimate']:.0%}")
        tables.append({"category": category, "category_label": str(_("Everyone")) if category == "all"
                       else labels.category(category), "groups": groups, "gaps": gap_cells})
    alerts = [{**a, "category_label": labels.category(a["category"]),
               "metric_label": str(_("Gap: %(measure)s") % {"measure": _column_label(a["metric"][:-4])})}
              for a in audit.alerts]
    return {"columns": [_column_label(c) for c in columns], "tables": tables, "alerts": alerts}
