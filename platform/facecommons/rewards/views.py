"""Pages: /donate/ (public), /rewards/ (contributor), /rewards/multipliers/ (public)."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.formats import number_format
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from facecommons.common.tunables import tunables
from facecommons.rewards.multipliers import multiplier_for, multipliers_current, multipliers_table
from facecommons.rewards.providers import list_providers
from facecommons.rewards.selectors import donation_overview, user_rewards
from facecommons.rewards.services import rewards_declined, rewards_set_declined


def donate(request: HttpRequest) -> HttpResponse:
    return render(request, "rewards/donate.html", {
        "overview": donation_overview(),
        "providers": list_providers(),
        "instructions": tunables.REWARDS_DONATION_INSTRUCTIONS,
        "pointer": tunables.WEB_MONETIZATION_POINTER,
        "payout_percent": tunables.REWARDS_PAYOUT_PERCENT,
    })


def multipliers(request: HttpRequest) -> HttpResponse:
    snap = multipliers_current()
    return render(request, "rewards/multipliers.html", {"snapshot": snap, "table": multipliers_table(snap)})


@login_required
@require_http_methods(["GET"])
def my_rewards(request: HttpRequest) -> HttpResponse:
    return render(request, "rewards/my_rewards.html", {"r": user_rewards(request.user)})


@login_required
@require_POST
def my_rewards_toggle(request: HttpRequest) -> HttpResponse:
    choice = request.POST.get("choice")
    if choice not in ("decline", "accept"):
        messages.error(request, gettext("Choose to decline or to accept rewards."))
        return redirect("rewards-me")
    rewards_set_declined(user=request.user, declined=choice == "decline")
    messages.success(request, gettext("You have declined rewards.") if choice == "decline"
                     else gettext("You take part in rewards."))
    return redirect("rewards-me")


@login_required
@require_GET
def estimate(request: HttpRequest) -> JsonResponse:
    """The points a photo with these categories would earn if approved now, for the upload
    page (``?categories=<JSON object>``): the same rule as the credit (multipliers.py), at
    today's multipliers; the multiplier is fixed only at approval."""
    try:
        categories = json.loads(request.GET.get("categories", "{}"), parse_constant=lambda c: None)
    except (ValueError, RecursionError):
        categories = None
    if not isinstance(categories, dict):
        return JsonResponse({"error": {"code": "invalid", "message": "categories must be a JSON object"}}, status=400)
    if rewards_declined(request.user):
        return JsonResponse({"declined": True, "text": gettext("You have declined rewards: photos earn no points.")})
    snap = multipliers_current()
    multiplier = multiplier_for(categories, snap)
    points = (snap.base_points * multiplier).normalize()
    text = gettext("If approved, each photo earns about %(points)s points (%(base)s × %(multiplier)s for its "
                   "scarcest category).") % {"points": number_format(points), "base": number_format(snap.base_points),
                                             "multiplier": number_format(multiplier.normalize())}
    return JsonResponse({"declined": False, "points": f"{points:f}", "multiplier": f"{multiplier:f}",
                         "base_points": snap.base_points, "text": text})
