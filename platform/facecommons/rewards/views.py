"""Pages: /donate/ (public), /rewards/ (contributor), /rewards/multipliers/ (public)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from facecommons.common.conf import setting
from facecommons.rewards.multipliers import multipliers_current, multipliers_table
from facecommons.rewards.providers import list_providers
from facecommons.rewards.selectors import donation_overview, user_rewards
from facecommons.rewards.services import rewards_set_declined


def donate(request: HttpRequest) -> HttpResponse:
    return render(request, "rewards/donate.html", {
        "overview": donation_overview(),
        "providers": list_providers(),
        "instructions": setting("REWARDS_DONATION_INSTRUCTIONS", ""),
        "pointer": setting("WEB_MONETIZATION_POINTER", ""),
        "payout_percent": int(setting("REWARDS_PAYOUT_PERCENT", 100)),
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
        messages.error(request, "Choose to decline or to accept rewards.")
        return redirect("rewards-me")
    rewards_set_declined(user=request.user, declined=choice == "decline")
    messages.success(request, "You have declined rewards." if choice == "decline" else "You take part in rewards.")
    return redirect("rewards-me")
