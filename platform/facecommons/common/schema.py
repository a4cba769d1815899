"""The OpenAPI schema: every operation documents the errors it can answer, in the one format.

Views document their success bodies (and, where useful, why a 4xx happens); this class adds
the error statuses every endpoint shares (bad input, authentication, permission, not found,
a body too large or of the wrong type, rate limits, and the server error with its id), each
with the ``{"error": {...}}`` body, so a client and schemathesis can rely on the schema.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from django.contrib.auth.models import AnonymousUser
from drf_spectacular import openapi
from drf_spectacular.plumbing import ResolvedComponent
from rest_framework import serializers

# The body of every error (common/api.py). A plain schema, not a serializer: a serializer
# field cannot be called "fields".
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"error": {
        "type": "object",
        "properties": {
            "code": {"type": "string", "description": "Machine-readable reason, e.g. invalid, not_found."},
            "message": {"type": "string", "description": "Human-readable explanation."},
            "fields": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}},
                       "description": "Per-field messages for invalid input."},
            "id": {"type": "string", "description": "Id of a server error in our logs (500 only)."},
        },
        "required": ["code", "message"],
    }},
    "required": ["error"],
}


COMMON_ERRORS = {
    "400": "Invalid input",
    "401": "Missing, invalid or expired credentials",
    "403": "Not allowed",
    "404": "Not found (also: no access)",
    "429": "Too many requests",
    "500": "Server error; the body carries an id for our logs",
}
BODY_ERRORS = {"413": "Request body too large", "415": "Unsupported media type"}


# DRF refuses a NUL character in any text field (the databases cannot store one): say so.
NO_NUL_PATTERN = "^[^\\u0000]*$"


class AutoSchema(openapi.AutoSchema):
    def _map_serializer_field(self, field: Any, direction: Any, bypass_extensions: bool = False) -> dict[str, Any]:
        meta: dict[str, Any] = super()._map_serializer_field(field, direction, bypass_extensions)
        if (direction == "request" and isinstance(field, serializers.CharField) and meta.get("type") == "string"
                and not {"format", "pattern", "enum"} & set(meta)):
            meta["pattern"] = NO_NUL_PATTERN
        return meta

    def get_auth(self) -> list[dict[str, Any]]:
        """As discovered, plus "no credentials" wherever the view's permissions let an
        anonymous caller in (drf-spectacular only sees that for AllowAny itself)."""
        auth: list[dict[str, Any]] = super().get_auth()
        if auth and {} not in auth and self._anonymous_allowed():
            auth.append({})
        return auth

    def _anonymous_allowed(self) -> bool:
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
                responses[code] = {"content": {"application/json": {"schema": self._error_component().ref}},
                                   "description": response.get("description", "")}
        return responses

    def _error_component(self) -> ResolvedComponent:
        component = ResolvedComponent(name="Error", type=ResolvedComponent.SCHEMA, object="Error",
                                      schema=ERROR_SCHEMA)
        self.registry.register_on_missing(component)
        return component


def close_upload_body(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """The upload's multipart body has exactly its parts (image, categories, free_text): a client
    adding parts of its own gets no promise. (A part named with control characters can make the
    multipart parser drop the image: schemathesis found it once the schema allowed extra parts.)"""
    upload = result.get("components", {}).get("schemas", {}).get("ContributionUploadRequest")
    if upload is not None:
        upload["additionalProperties"] = False
    return result
