"""The OpenAPI schema: every operation documents the errors it can answer, in the one format.

Views document their success bodies (and, where useful, why a 4xx happens); this class adds
the error statuses every endpoint shares (bad input, authentication, permission, not found,
a body too large or of the wrong type, rate limits, and the server error with its id), each
with the ``{"error": {...}}`` body, so a client and schemathesis can rely on the schema.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular import openapi
from rest_framework import serializers


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Machine-readable reason, e.g. invalid, not_found, server_error.")
    message = serializers.CharField(help_text="Human-readable explanation.")
    fields = serializers.DictField(child=serializers.ListField(child=serializers.CharField()), required=False,
                                   help_text="Per-field messages for invalid input.")
    id = serializers.CharField(required=False, help_text="Id of a server error in our logs (500 only).")


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


COMMON_ERRORS = {
    "400": "Invalid input",
    "401": "Missing, invalid or expired credentials",
    "403": "Not allowed",
    "404": "Not found (also: no access)",
    "429": "Too many requests",
    "500": "Server error; the body carries an id for our logs",
}
BODY_ERRORS = {"413": "Request body too large", "415": "Unsupported media type"}


class AutoSchema(openapi.AutoSchema):
    def get_auth(self) -> list[dict[str, Any]]:
        """As discovered, plus "no credentials" wherever the view's permissions let an
        anonymous caller in (drf-spectacular only sees that for AllowAny itself)."""
        auth: list[dict[str, Any]] = super().get_auth()
        if auth and {} not in auth and self._anonymous_allowed():
            auth.append({})
        return auth

    def _anonymous_allowed(self) -> bool:
        from types import SimpleNamespace

        from django.contrib.auth.models import AnonymousUser

        request = SimpleNamespace(method=self.method, user=AnonymousUser(), auth=None, query_params={}, data={})
        try:
            permissions = self.view.get_permissions()
            return all(p.has_permission(request, self.view) for p in permissions)  # type: ignore[arg-type]
        except Exception:  # noqa: BLE001 - a permission that needs more of a request: not anonymous
            return False

    def _get_response_bodies(self, direction: openapi.Direction = "response") -> dict[str, Any]:
        responses: dict[str, Any] = super()._get_response_bodies(direction)
        errors = dict(COMMON_ERRORS)
        if self.method in ("POST", "PUT", "PATCH"):
            errors.update(BODY_ERRORS)
        for code, description in errors.items():
            responses.setdefault(code, {"description": description})
        for code, response in responses.items():
            if code.isdigit() and int(code) >= 400 and not response.get("content"):
                described = self._get_response_for_code(ErrorSerializer, code, direction=direction)
                described["description"] = response.get("description") or described.get("description", "")
                responses[code] = described
        return responses
