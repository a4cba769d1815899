"""The one view that serves photo bytes: permission-checked, private, never cached."""

from __future__ import annotations

from typing import Any

from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase

from facecommons.common.audit import audit_record
from facecommons.common.storage import private_storage
from facecommons.contributions.models import FileVariant
from facecommons.contributions.selectors import contribution_get_visible

VARIANTS = [v.value for v in FileVariant]


def _not_found(message: str = "Not found.") -> HttpResponse:
    resp = JsonResponse({"error": {"code": "not_found", "message": message}}, status=404)
    resp["Cache-Control"] = "private, no-store"
    return resp


def serve_contribution_image(request: HttpRequest, contribution_id: Any,
                             variant: str | None = None) -> HttpResponseBase:
    """Stream one stored file of a contribution to its owner, a moderator or an admin.

    Anyone else, anonymous included, gets 404 (never 403), so that the existence of someone
    else's photo does not leak. Views by anyone but the owner are audit-logged.
    """
    # Exactly one of the enum's values (the schema's enum): no trimming or case folding.
    variant = variant or FileVariant.ORIGINAL.value
    c = contribution_get_visible(user=request.user, contribution_id=contribution_id)
    if c is None:
        return _not_found()
    if variant not in VARIANTS:
        return _not_found(f"Unknown image variant '{variant[:20]}'; use one of {', '.join(VARIANTS)}.")
    f = c.files.filter(variant=variant).first()
    storage = private_storage()
    if f is None or not storage.exists(f.key):
        return _not_found(f"This photo has no {variant} image (yet).")
    if request.user.pk != c.owner_id:
        audit_record(actor=request.user, action="image_viewed", obj=c, after={"variant": variant})
    resp = FileResponse(storage.open(f.key, "rb"), content_type=f.content_type or "image/jpeg")
    resp["Content-Disposition"] = f'inline; filename="{c.pk}-{variant}.jpg"'
    resp["Cache-Control"] = "private, no-store"
    resp["X-Content-Type-Options"] = "nosniff"
    resp["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return resp


def contribution_image_page(request: HttpRequest, contribution_id: Any) -> HttpResponseBase:
    """Web URL ``/my/photos/<uuid>/image/?variant=…`` (session authentication)."""
    if request.method not in ("GET", "HEAD"):
        return JsonResponse({"error": {"code": "method_not_allowed", "message": "Use GET."}}, status=405)
    return serve_contribution_image(request, contribution_id, request.GET.get("variant"))
