"""Require TOTP for moderators and admins when REQUIRE_MFA_FOR_STAFF is on (production)."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from facecommons.accounts.roles import is_moderator


class StaffMFAMiddleware:
    EXEMPT_PREFIXES = ("/accounts/", "/static/", "/healthz")

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (getattr(settings, "REQUIRE_MFA_FOR_STAFF", False)
                and request.user.is_authenticated
                and not request.path.startswith(self.EXEMPT_PREFIXES)
                and (is_moderator(request.user) or request.user.is_staff)):
            from allauth.mfa.models import Authenticator

            if not Authenticator.objects.filter(user=request.user, type=Authenticator.Type.TOTP).exists():
                if request.path.startswith("/api/"):
                    from django.http import JsonResponse

                    return JsonResponse({"error": {"code": "mfa_required", "message":
                                        "Moderators and admins must set up two-factor authentication first."}}, status=403)
                return redirect("mfa_activate_totp")
        return self.get_response(request)
