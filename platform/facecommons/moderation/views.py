"""Pages: the review screen (moderators), agreement, audit log and escalations (admins)."""

from __future__ import annotations

import csv
import json
import uuid
from collections.abc import Callable, Iterator
from functools import wraps
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.http import require_http_methods

from facecommons.accounts.roles import is_admin, is_moderator
from facecommons.common.audit import audit_record
from facecommons.contributions.models import Contribution
from facecommons.moderation.errors import ModerationError
from facecommons.moderation.models import ESCALATION_REASONS, RejectReason
from facecommons.moderation.selectors import (
    agreement_stats,
    audit_events,
    escalations_open,
    image_url,
    queue_stats,
    reject_reasons,
)
from facecommons.moderation.services import escalation_resolve

AUDIT_PAGE_SIZE = 50


def _role_required(check: Callable[[Any], bool], role: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``role`` ("moderator" or "admin") names who may open the page, on the page that says no."""

    def deco(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not check(request.user):
                return render(request, "moderation/forbidden.html", {
                    "needs_admin": role == "admin", "is_moderator": is_moderator(request.user),
                }, status=403)
            return view(request, *args, **kwargs)

        return wrapped

    return deco


moderator_required = _role_required(is_moderator, "moderator")
admin_required = _role_required(is_admin, "admin")


@moderator_required
@require_http_methods(["GET"])
def review_page(request: HttpRequest) -> HttpResponse:
    config = {"next_url": "/api/v1/moderation/next/", "decision_url": "/api/v1/moderation/{id}/decision/",
              "reasons": reject_reasons(), "buffer": 2}
    return render(request, "moderation/review.html", {"config": config, "reasons": reject_reasons(),
                                                      "stats": queue_stats(request.user)})


class AuditFilterForm(forms.Form):
    actor = forms.CharField(required=False, max_length=254, help_text="pseudonym, email, or 'system'")
    action = forms.CharField(required=False, max_length=64)
    object_type = forms.CharField(required=False, max_length=64)
    object_id = forms.CharField(required=False, max_length=64)
    date_from = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))


class _Echo:
    def write(self, value: str) -> str:
        return value


CSV_COLUMNS = ["created_at", "actor", "action", "object_type", "object_id", "before", "after", "note"]


def _csv_rows(qs: Any) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_COLUMNS)
    for e in qs.iterator(chunk_size=2000):
        yield writer.writerow([e.created_at.isoformat(), e.actor_label or "system", e.action, e.object_type,
                               e.object_id, json.dumps(e.before, sort_keys=True), json.dumps(e.after, sort_keys=True),
                               e.note])


@admin_required
@require_http_methods(["GET"])
def audit_page(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    form = AuditFilterForm(request.GET or None)
    filters: dict[str, Any] = {}
    if form.is_bound and form.is_valid():
        filters = {k: v for k, v in form.cleaned_data.items() if v}
    elif form.is_bound:
        return render(request, "moderation/audit.html", {"form": form, "page": None}, status=400)
    qs = audit_events(**filters)
    if request.GET.get("format") == "csv":
        audit_record(actor=request.user, action="audit_exported", object_type="common.auditevent", object_id="*",
                     after={k: str(v) for k, v in filters.items()})
        resp = StreamingHttpResponse(_csv_rows(qs), content_type="text/csv; charset=utf-8")
        resp["Content-Disposition"] = 'attachment; filename="audit-log.csv"'
        resp["Cache-Control"] = "private, no-store"
        return resp
    paginator = Paginator(qs.only("created_at", "actor_label", "action", "object_type", "object_id", "before",
                                  "after", "note"), AUDIT_PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "moderation/audit.html", {"form": form, "page": page, "query": query.urlencode()})


@admin_required
@require_http_methods(["GET"])
def agreement_page(request: HttpRequest) -> HttpResponse:
    return render(request, "moderation/agreement.html", {"stats": agreement_stats()})


class ResolveForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", gettext_lazy("Approve")), ("reject", gettext_lazy("Reject"))])
    reason_code = forms.ChoiceField(choices=[("", "—"), *RejectReason.choices], required=False)
    note = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


@admin_required
@require_http_methods(["GET", "POST"])
def escalations_page(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = ResolveForm(request.POST)
        c = get_object_or_404(Contribution, pk=request.POST.get("contribution", "") or None) \
            if _is_uuid(request.POST.get("contribution")) else None
        if c is None:
            messages.error(request, gettext("Unknown photo."))
            return redirect("moderation-escalations")
        if not form.is_valid():
            messages.error(request, gettext("Choose approve or reject (with a reason)."))
            return redirect("moderation-escalations")
        try:
            escalation_resolve(admin=request.user, contribution=c, decision=form.cleaned_data["decision"],
                               reason_code=form.cleaned_data["reason_code"] or None,
                               note=form.cleaned_data["note"])
        except ModerationError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, gettext("Approved.") if form.cleaned_data["decision"] == "approve"
                             else gettext("Rejected."))
        return redirect("moderation-escalations")
    items = []
    for esc in escalations_open():
        c = esc.contribution
        items.append({"esc": esc, "c": c, "image": image_url(c.pk, "original"),
                      "reason_label": ESCALATION_REASONS.get(esc.reason, esc.reason),
                      "reviews": sorted(c.reviews.all(), key=lambda r: r.created_at)})  # type: ignore[attr-defined]
    return render(request, "moderation/escalations.html", {"items": items, "form": ResolveForm(),
                                                           "reasons": RejectReason.choices})


def _is_uuid(value: Any) -> bool:
    try:
        uuid.UUID(str(value))
    except (ValueError, TypeError):
        return False
    return True
