"""The public dashboard and its downloads (charts as SVG/PNG, data as CSV/JSON)."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from django.contrib import messages
from django.core.cache import cache
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseForbidden, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from facecommons.accounts.roles import is_admin
from facecommons.evaluation import charts, lowlight_panel, selectors, services
from facecommons.evaluation.forms import StartForm
from facecommons.evaluation.gatekeeper import gatekeeper_audit_latest
from facecommons.evaluation.labels import CategoryLabels, metric_label, task_label
from facecommons.evaluation.models import EvaluationRun, ExternalSource, RunStatus
from facecommons.evaluation.tasks import enqueue_run
from facecommons.releases.models import Snapshot
from ml.registry import list_models

SUMMARY_METRICS = ("detection_gap", "gn_score", "fmr_ratio@target", "log10_fmr_ratio@target", "fnmr_ratio@target",
                   "fdr@target", "fdr@usual", "gn_score@usual")


def _chart_bytes(run: EvaluationRun, model_id: str, chart: str, fmt: str) -> bytes:
    # Finished runs never change; the trend also depends on the newest run of the scope.
    newest = selectors.run_latest_done(run.scope_key)
    key = f"evaluation:chart:{run.pk}:{newest.pk if newest else 0}:{model_id}:{chart}:{fmt}"
    data = cache.get(key)
    if data is None:
        data = charts.render(run, model_id, chart, fmt)
        cache.set(key, data, 24 * 3600)
    return data


def _display(m: dict[str, Any], insufficient: bool, note: str) -> str:
    k = selectors.stats_min_count()
    if m["n"] is None:
        return gettext("fewer than %(k)s") % {"k": k}
    if insufficient:
        return gettext("insufficient data")
    if m["estimate"] is None:
        return gettext("∞ (the best group made no errors)") if note.startswith("infinite") else "—"
    ci = "" if m["ci_low"] is None else f" [{m['ci_low']:.3g}, {m['ci_high']:.3g}]"
    return f"{m['estimate']:.3g}{ci}"


def start_form(data: Any = None) -> StartForm:
    snapshots = list(Snapshot.objects.filter(status="published").order_by("-published_at")
                     .values_list("version", flat=True)[:50])
    sources = list(ExternalSource.objects.order_by("name").values_list("name", flat=True))
    return StartForm(data, snapshots=snapshots, sources=sources, models=[*list_models("detector"), *list_models("verifier")])


@require_POST
def start(request: HttpRequest) -> HttpResponse:
    """An administrator starts an evaluation from the dashboard (the API's ``POST /evaluations/``)."""
    if not is_admin(request.user):
        return HttpResponseForbidden(gettext("Only administrators can start an evaluation."))
    form = start_form(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for e in errors:
                messages.error(request, str(e))
        return redirect("evaluation:dashboard")
    d = form.cleaned_data
    try:
        run = services.evaluation_run_start(scope=d["scope"], snapshot_version=d.get("snapshot") or "",
                                            source_name=d.get("source") or "", models=d.get("models") or None,
                                            trigger="web", actor=request.user)
    except services.RunAlreadyActive as exc:
        messages.error(request, gettext("Evaluation %(id)s of this set is still running: wait for it to finish.")
                       % {"id": exc.run.pk})
    except services.EvaluationError as exc:
        messages.error(request, gettext("The evaluation could not start: %(reason)s") % {"reason": exc.message})
    else:
        enqueue_run(run.pk)
        messages.success(request, gettext("Evaluation %(id)s has started: %(n)s photos. Its progress shows here.")
                         % {"id": run.pk, "n": run.items_total})
    return redirect("evaluation:dashboard")


def dashboard(request: HttpRequest) -> HttpResponse:
    runs = list(selectors.runs_done()[:50])
    run = None
    run_id = request.GET.get("run", "")
    if run_id:
        if not run_id.isdigit():
            raise Http404("No such evaluation.")
        run = get_object_or_404(EvaluationRun, pk=int(run_id), status=RunStatus.DONE)
    elif runs:
        run = runs[0]
    active = list(EvaluationRun.objects.filter(status__in=[RunStatus.RUNNING, RunStatus.FINALISING])[:5])
    models: list[dict[str, Any]] = []
    if run is not None:
        names = CategoryLabels()

        def labelled(pm: dict[str, Any]) -> dict[str, Any]:
            return {**pm, "category_label": names.category(pm["category"]),
                    "value_label": names.value(pm["category"], pm["value"]), "metric_label": metric_label(pm["metric"])}

        chart_list = charts.available_charts(run)
        metrics = list(selectors.run_metrics(run))
        for spec in run.model_specs:
            mine = [m for m in metrics if m.model_id == spec["id"]]
            table = []
            main = ("detection_rate",) if spec["task"] == "detection" else ("fmr@target", "fnmr@target", "fmr@usual",
                                                                            "fnmr@usual", "eer")
            for m in mine:
                if m.metric in main and "&" not in m.category:
                    pm = selectors.public_metric(m)
                    table.append({**labelled(pm), "display": _display(pm, m.insufficient, m.note)})
            summaries = []
            for m in mine:
                if m.metric in SUMMARY_METRICS:
                    pm = selectors.public_metric(m)
                    summaries.append({**labelled(pm), "display": _display(pm, m.insufficient, m.note)})
            svgs = []
            for c in chart_list:
                if c["model"] != spec["id"]:
                    continue
                svgs.append({**c, "svg": charts.svg_for_inline(_chart_bytes(run, spec["id"], c["chart"], "svg"))})
            model_summary = run.summary.get("models", {}).get(spec["id"], {})
            models.append({"spec": spec, "task_label": task_label(spec["task"]), "summary": model_summary,
                           "table": table, "summaries": summaries, "charts": svgs,
                           "lowlight": lowlight_panel.panel(mine, model_summary)})
    return render(request, "evaluation/dashboard.html", {
        "run": run, "runs": runs, "active": active, "models": models,
        "alerts": [{**a, "metric_label": metric_label(str(a.get("metric", ""))),
                    "category_label": CategoryLabels().category(str(a.get("category", "")))}
                   for a in (run.alerts if run else [])], "min_count": selectors.stats_min_count(),
        "gatekeeper": gatekeeper_context(),
        "start_form": start_form() if is_admin(request.user) else None,
    })


def gatekeeper_context() -> dict[str, Any] | None:
    """The latest gatekeeper audit for a page (the dashboard, the public statistics)."""
    audit = gatekeeper_audit_latest()
    if not audit.photos:
        return None
    return {"audit": audit, "tables": selectors.gatekeeper_tables(audit)}


def chart_download(request: HttpRequest, run_id: int, model_id: str, chart: str, fmt: str) -> HttpResponse:
    run = get_object_or_404(EvaluationRun, pk=run_id, status=RunStatus.DONE)
    try:
        data = _chart_bytes(run, model_id, chart, fmt)
    except charts.ChartNotFound as exc:
        raise Http404("No such chart.") from exc
    resp = HttpResponse(data, content_type="image/svg+xml" if fmt == "svg" else "image/png")
    resp["Content-Disposition"] = f'attachment; filename="evaluation-{run.pk}-{model_id}-{chart}.{fmt}"'
    return resp


def data_download(request: HttpRequest, run_id: int, fmt: str) -> HttpResponse:
    if fmt not in ("csv", "json"):
        raise Http404("Data is available as .csv or .json.")
    run = get_object_or_404(EvaluationRun, pk=run_id, status=RunStatus.DONE)
    rows = selectors.run_rows(run)
    name = f"evaluation-{run.pk}.{fmt}"
    if fmt == "json":
        resp: HttpResponse = JsonResponse({"run": selectors.run_payload(run), "rows": rows}, encoder=DjangoJSONEncoder,
                                          json_dumps_params={"indent": 1})
    else:
        buf = io.StringIO()
        fields = ["run", "scope", "model", "version", "task", "category", "value", "metric", "estimate", "n",
                  "ci_low", "ci_high", "insufficient", "note"]
        w = csv.DictWriter(buf, fieldnames=fields)
        w.writeheader()
        for r in rows:
            w.writerow({k: ("" if r[k] is None else r[k]) for k in fields})
        resp = HttpResponse(buf.getvalue(), content_type="text/csv; charset=utf-8")
    resp["Content-Disposition"] = f'attachment; filename="{name}"'
    return resp


def curves_download(request: HttpRequest, run_id: int) -> JsonResponse:
    run = get_object_or_404(EvaluationRun, pk=run_id, status=RunStatus.DONE)
    out = []
    for spec in run.model_specs:
        for cat in ("all", *charts.VERIFICATION_CATEGORIES):
            for c in selectors.run_curves(run, spec["id"], cat):
                out.append({"model": spec["id"], "category": c.category, "value": c.value, "points": c.points})
    return JsonResponse({"run": run.pk, "curves": json.loads(json.dumps(out))})
