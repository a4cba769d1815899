"""Pages: /research/ (researcher account), /snapshots/ (list, build, progress), /stats/."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseForbidden, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from facecommons.accounts.roles import is_admin
from facecommons.common.models import SOURCE_LANGUAGE
from facecommons.evaluation.views import gatekeeper_context
from facecommons.releases import selectors, services
from facecommons.releases.download import serve_snapshot
from facecommons.releases.forms import ApplicationForm, TokenForm
from facecommons.releases.models import (
    ApplicationStatus,
    ResearcherNotice,
    ResearcherToken,
    Snapshot,
    SnapshotStatus,
)

NEW_TOKEN_SESSION_KEY = "releases_new_token"  # noqa: S105 - a session key name


@login_required
@require_GET
def research(request: HttpRequest) -> HttpResponse:
    user = request.user
    agreement = services.agreement_current()
    application = services.application_latest(user)
    approved = services.researcher_is_approved(user)
    can_download, why = services.researcher_can_download(user)
    new_token = request.session.pop(NEW_TOKEN_SESSION_KEY, None)  # shown once, then gone
    can_apply = application is None or application.status == ApplicationStatus.REFUSED
    shown = agreement.localized() if agreement else None
    form = ApplicationForm(initial={"agreement_version": agreement.version if agreement else 0,
                                    "agreement_language": shown.language if shown else ""})
    return render(request, "releases/research.html", {
        "agreement": agreement, "shown": shown, "accepted_current": services.user_has_current_agreement(user),
        "application": application, "approved": approved, "can_apply": can_apply and agreement is not None,
        "can_download": can_download, "why_not": why, "form": form, "token_form": TokenForm(),
        "tokens": ResearcherToken.objects.filter(user=user).order_by("-created_at"),  # type: ignore[misc]
        "new_token": new_token,
        "snapshots": Snapshot.objects.filter(status=SnapshotStatus.PUBLISHED).order_by("-published_at", "-id")
        if approved else [],
        "notices": ResearcherNotice.objects.filter(user=user).select_related("snapshot")[:50],  # type: ignore[misc]
    })


@login_required
@require_POST
def research_apply(request: HttpRequest) -> HttpResponse:
    form = ApplicationForm(request.POST)
    if form.is_valid():
        d = form.cleaned_data
        try:
            services.application_submit(user=request.user, name=d["name"], institution=d["institution"],
                                        purpose=d["purpose"], agreement_version=d["agreement_version"],
                                        agreement_language=d["agreement_language"] or SOURCE_LANGUAGE)
            messages.success(request, "Thank you: your application was sent. You will get an e-mail with the decision.")
        except services.ReleaseError as exc:
            messages.error(request, str(exc))
    else:
        messages.error(request, "Please correct the application: " + "; ".join(
            f"{f}: {' '.join(str(m) for m in e)}" for f, e in form.errors.items()))
    return redirect("research")


@login_required
@require_POST
def research_accept(request: HttpRequest) -> HttpResponse:
    try:
        version = int(request.POST.get("version", ""))
    except ValueError:
        messages.error(request, "Please accept the agreement shown on the page.")
        return redirect("research")
    if request.POST.get("accept") != "on":
        messages.error(request, "Tick the box to accept the data-use agreement.")
        return redirect("research")
    try:
        services.agreement_accept(user=request.user, version=version,
                                  language=request.POST.get("language") or SOURCE_LANGUAGE)
        messages.success(request, f"You accepted the data-use agreement v{version}.")
    except services.ReleaseError as exc:
        messages.error(request, str(exc))
    return redirect("research")


@login_required
@require_POST
def token_create(request: HttpRequest) -> HttpResponse:
    if not services.researcher_is_approved(request.user):
        return HttpResponseForbidden("Only approved researchers create tokens.")
    form = TokenForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Please name the token (at most 100 characters).")
        return redirect("research")
    try:
        _, key = services.token_create(user=request.user, name=form.cleaned_data["name"])
    except services.ReleaseError as exc:
        messages.error(request, str(exc))
        return redirect("research")
    request.session[NEW_TOKEN_SESSION_KEY] = key
    return redirect("research")


@login_required
@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(ResearcherToken, pk=pk, user=request.user)
    services.token_revoke(token=token, actor=request.user)
    messages.success(request, f"Token “{token.name}” revoked.")
    return redirect("research")


@login_required
@require_POST
def notices_read(request: HttpRequest) -> HttpResponse:
    notices = ResearcherNotice.objects.filter(user=request.user, read_at__isnull=True)  # type: ignore[misc]
    notices.update(read_at=timezone.now())
    return redirect("research")


@login_required
@require_GET
def research_download(request: HttpRequest, version: str) -> HttpResponseBase:
    snap = get_object_or_404(Snapshot, version=version, status=SnapshotStatus.PUBLISHED)
    ok, why = services.researcher_can_download(request.user)
    if not ok:
        return HttpResponseForbidden(why)
    return serve_snapshot(request, snap, user=request.user)


@require_GET
def snapshots(request: HttpRequest) -> HttpResponse:
    qs = selectors.snapshots_visible(request.user)
    building = qs.filter(status__in=[SnapshotStatus.PENDING, SnapshotStatus.BUILDING]).first()
    return render(request, "releases/snapshots.html", {
        "snapshots": qs[:100], "is_admin": is_admin(request.user), "building": building,
        "building_phase": selectors.phase_label(building.phase) if building else "",
        "can_download": services.researcher_can_download(request.user)[0],
    })


@login_required
@require_POST
def snapshot_build(request: HttpRequest) -> HttpResponse:
    if not is_admin(request.user):
        return HttpResponseForbidden("Only admins start snapshot builds.")
    purge_of = None
    if request.POST.get("purge_of"):
        purge_of = Snapshot.objects.filter(version=request.POST["purge_of"], status=SnapshotStatus.PUBLISHED).first()
    try:
        snap = services.snapshot_request(actor=request.user, note=request.POST.get("note", "")[:200],
                                         purge_of=purge_of)
        messages.success(request, f"Snapshot {snap.version} is being built.")
    except services.ReleaseError as exc:
        messages.error(request, str(exc))
    return redirect("snapshots")


@require_GET
def snapshot_progress(request: HttpRequest, version: str) -> JsonResponse:
    snap = selectors.snapshots_visible(request.user).filter(version=version).first()
    if snap is None:
        raise Http404
    return JsonResponse(selectors.snapshot_progress(snap))


@require_GET
def stats(request: HttpRequest) -> HttpResponse:
    data = selectors.stats_compute()
    for cat in data["categories"]:
        top = max([v["count"] or 0 for v in cat["values"]] + [1])
        for v in cat["values"]:
            v["width"] = round(100 * (v["count"] or 0) / top, 1)
    top_month = max([g["count"] or 0 for g in data["growth"]] + [1])
    for g in data["growth"]:
        g["width"] = round(100 * (g["count"] or 0) / top_month, 1)
    for inter in data["intersections"]:
        a_vals = sorted({c["a"] for c in inter["cells"]})
        b_vals = sorted({c["b"] for c in inter["cells"]}, key=lambda v: (len(v), v))
        cell = {(c["a"], c["b"]): c for c in inter["cells"]}
        a_label = {c["a"]: c["a_label"] for c in inter["cells"]}
        b_label = {c["b"]: c["b_label"] for c in inter["cells"]}
        inter["b_values"] = [b_label[b] for b in b_vals]
        inter["rows"] = [{"a": a_label[a], "cells": [cell.get((a, b)) for b in b_vals]} for a in a_vals]

    # issue 13: the gatekeeper audit is public beside the dataset's own statistics.
    return render(request, "releases/stats.html", {"s": data, "gatekeeper": gatekeeper_context(),
                                                   "min_count": data["min_count"]})
