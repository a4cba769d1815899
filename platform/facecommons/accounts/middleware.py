"""Require TOTP for moderators and admins when REQUIRE_MFA_FOR_STAFF is on (production)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from allauth.mfa.models import Authenticator
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.utils.translation import gettext

from facecommons.accounts.roles import is_moderator
from facecommons.accounts.tokens import api_token_authenticate


def _token_user(request: HttpRequest) -> Any | None:
    """The user of an ``Authorization: Token fct_…`` header.

    DRF authenticates API requests inside the view, after every middleware has run, so
    ``request.user`` is anonymous here for token requests. Without this lookup a staff
    account without TOTP could use the whole API with a token.
    """
    header = request.META.get("HTTP_AUTHORIZATION", "")
    parts = header.split()
    if len(parts) != 2 or parts[0].lower() not in ("token", "bearer"):
        return None

    found = api_token_authenticate(parts[1])
    return found[0] if found is not None else None


class StaffMFAMiddleware:
    EXEMPT_PREFIXES = ("/accounts/", "/static/", "/healthz")

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if getattr(settings, "REQUIRE_MFA_FOR_STAFF", False) and not request.path.startswith(self.EXEMPT_PREFIXES):
            user: Any = request.user
            if not user.is_authenticated and request.path.startswith("/api/"):
                user = _token_user(request)
            if (user is not None and user.is_authenticated
                    and (is_moderator(user) or user.is_staff) and not self._has_totp(user)):
                if request.path.startswith("/api/"):
                    return JsonResponse({"error": {"code": "mfa_required", "message":
                                        gettext("Moderators and admins must set up two-factor authentication first.")}},
                                        status=403)
                return redirect("mfa_activate_totp")
        return self.get_response(request)

    @staticmethod
    def _has_totp(user: Any) -> bool:
        return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()
