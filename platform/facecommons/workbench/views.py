"""Workbench pages: start runs, watch their progress, compare them per group."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from facecommons.accounts.roles import is_admin
from facecommons.releases.models import Snapshot
from facecommons.workbench import selectors, services
from facecommons.workbench.forms import StartForm
from facecommons.workbench.models import ACTIVE, TrainingRun
from facecommons.workbench.tasks import enqueue_training


def _published() -> list[str]:
    return list(Snapshot.objects.filter(status="published").order_by("-published_at").values_list("version", flat=True))


def _forbidden(request: HttpRequest) -> HttpResponse:
    return HttpResponseForbidden(_("The workbench is for administrators and researchers."))


@login_required
def workbench(request: HttpRequest) -> HttpResponse:
    if not selectors.can_use(request.user):
        return _forbidden(request)
    form = StartForm(request.POST or None, snapshots=_published())
    if request.method == "POST" and form.is_valid():
        d = form.start_data()
        try:
            run = services.training_run_create(
                snapshot_version=d["snapshot"], task=d["task"], seed=d["seed"], category=d["category"],
                epochs=d["epochs"], actor=request.user,
                policy={"kind": d["policy"], "category": d["policy_category"], "values": d["policy_values"],
                        "max_photos": d["max_photos"]})
        except services.WorkbenchError as exc:
            form.add_error(None, str(exc))
        else:
            enqueue_training(run.pk)
            messages.success(request, _("Training run %(id)s is queued.") % {"id": run.pk})
            return redirect("workbench:run", run_id=run.pk)
    runs = list(selectors.runs_for(request.user)[:100])
    return render(request, "workbench/workbench.html", {"form": form, "runs": runs})


@login_required
def run_detail(request: HttpRequest, run_id: int) -> HttpResponse:
    if not selectors.can_use(request.user):
        return _forbidden(request)
    run = get_object_or_404(selectors.runs_for(request.user).defer(None), pk=run_id)
    metric = selectors.HEADLINE[run.task]
    rows = [selectors.public_row(r) for r in run.rows if r["metric"] == metric or r["value"] == "*"]
    baseline = [selectors.public_row(r) for r in run.baseline_rows if r["metric"] == metric]
    return render(request, "workbench/run.html", {
        "run": run, "rows": rows, "baseline": baseline, "metric": metric, "active": run.status in ACTIVE,
        "can_register": is_admin(request.user) and run.task in ("face-vs-background", "verification"),
        "min_count": selectors.stats_min_count()})


@login_required
@require_POST
def run_cancel(request: HttpRequest, run_id: int) -> HttpResponse:
    if not selectors.can_use(request.user):
        return _forbidden(request)
    run = get_object_or_404(selectors.runs_for(request.user), pk=run_id)
    try:
        services.training_run_cancel(run=run, actor=request.user)
        messages.success(request, _("Cancelling: the run stops at its next training step."))
    except services.WorkbenchError as exc:
        messages.error(request, str(exc))
    return redirect("workbench:run", run_id=run.pk)


@login_required
@require_POST
def run_register(request: HttpRequest, run_id: int) -> HttpResponse:
    if not is_admin(request.user):
        return _forbidden(request)
    run = get_object_or_404(TrainingRun, pk=run_id)
    try:
        run = services.training_run_register(run=run, actor=request.user,
                                             model_id=request.POST.get("model_id", "").strip())
        messages.success(request, _("Registered as %(model)s: the next evaluation measures it.")
                         % {"model": run.registered_model_id})
    except services.WorkbenchError as exc:
        messages.error(request, str(exc))
    return redirect("workbench:run", run_id=run.pk)


@login_required
def compare(request: HttpRequest) -> HttpResponse:
    if not selectors.can_use(request.user):
        return _forbidden(request)
    raw = [x for x in request.GET.get("runs", "").replace(" ", "").split(",") if x]
    if not raw or not all(x.isdigit() for x in raw) or len(raw) > 6:
        raise Http404(_("Choose two to six runs to compare."))
    found = {r.pk: r for r in selectors.runs_for(request.user).defer(None).filter(pk__in=[int(x) for x in raw])}
    runs = [found[int(x)] for x in raw if int(x) in found]
    if len(runs) < 2:
        raise Http404(_("Choose two to six runs to compare."))
    category = request.GET.get("category", "gender&ethnicity")
    data = selectors.compare(runs, category=category)
    return render(request, "workbench/compare.html", {"runs": runs, "category": category, **data,
                                                      "min_count": selectors.stats_min_count(),
                                                      "ids": ",".join(str(r.pk) for r in runs)})
