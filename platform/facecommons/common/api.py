"""API conventions: every error is ``{"error": {"code", "message", "fields"?, "id"?}}``.

One exception path: whatever a view raises ends here. Client mistakes become 4xx in this
format; anything unexpected is logged with a short id that the 500 reply carries, so an
operator can find the traceback a caller reports, and the caller never sees a debug page.
Services raise :class:`~facecommons.common.errors.ServiceError`; views raise :class:`ApiError`
(the same thing, usable where DRF expects an ``APIException``, e.g. in authentication).
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext
from rest_framework import exceptions, pagination, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from facecommons.common.errors import ServiceError

logger = logging.getLogger("facecommons.api")
SERVER_ERROR_MESSAGE = "Something went wrong on our side. Please try again; quote this id if it persists."


class ApiError(ServiceError, exceptions.APIException):
    """A view's refusal: a :class:`ServiceError` that DRF also treats as an ``APIException``."""

    def __init__(self, message: str, *, code: str = "invalid", status_code: int = 400,
                 fields: dict[str, list[str]] | None = None) -> None:
        ServiceError.__init__(self, code, message, fields=fields, status=status_code)
        self.detail = exceptions.ErrorDetail(message, code=code)
        self.status_code = status_code
        self.error_code = code


def _messages(detail: Any) -> list[str]:
    """The plain sentences of one field's errors; a list item's or a nested field's are
    prefixed with where they are ("item 3: ...", "age_range: ..."), never a Python repr."""
    if isinstance(detail, dict):
        return [f"{'item ' + str(k + 1) if isinstance(k, int) else k}: {m}"
                for k, v in detail.items() for m in _messages(v)]
    if isinstance(detail, list):
        return [m for v in detail for m in _messages(v)]
    return [str(detail)]


def _flatten(detail: Any) -> dict[str, list[str]]:
    if isinstance(detail, dict):
        return {k: _messages(v) for k, v in detail.items()}
    return {}


def error_body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, **extra}}


def server_error_body(exc: BaseException | None, *, where: str) -> dict[str, Any]:
    """Log ``exc`` with a fresh id and return the 500 body that carries it."""
    error_id = uuid.uuid4().hex[:16]
    logger.error("unexpected error %s at %s", error_id, where, exc_info=exc)
    return error_body("server_error", SERVER_ERROR_MESSAGE, id=error_id)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, RequestDataTooBig):
        return Response(error_body("request_too_large", "The request is too large."), status=413)
    if isinstance(exc, SuspiciousOperation):
        return Response(error_body("bad_request", "The request could not be read."), status=400)
    if isinstance(exc, ServiceError):
        body: dict[str, Any] = {"code": exc.code, "message": exc.message}
        if exc.fields:
            body["fields"] = exc.fields
        return Response({"error": body}, status=exc.status)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    if isinstance(exc, Http404):
        return Response({"error": {"code": "not_found", "message": gettext("Not found.")}}, status=status.HTTP_404_NOT_FOUND)
    if isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        request = context.get("request")
        where = f"{request.method} {request.path}" if request is not None else "?"
        set_rollback()
        return Response(server_error_body(exc, where=where), status=status.HTTP_500_INTERNAL_SERVER_ERROR)
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        if isinstance(exc.detail, list):
            message = " ".join(str(m) for m in exc.detail)
        else:
            message = "; ".join(f"{k}: {' '.join(v)}" if k != "non_field_errors" else " ".join(v)
                                for k, v in fields.items()) or gettext("Invalid input.")
        body = {"code": "invalid", "message": message}
        if fields:
            body["fields"] = fields
    else:
        detail = getattr(exc, "detail", str(exc))
        code = getattr(detail, "code", None) or getattr(exc, "default_code", "error")
        body = {"code": str(code), "message": str(detail)}
    response.data = {"error": body}
    return response


class LimitOffsetPagination(pagination.LimitOffsetPagination):
    """DRF's limit/offset pagination, except that a ``limit`` or ``offset`` that is not a
    whole number (``?offset=null``, ``?limit=-3``) is refused with 400, not silently replaced
    by the default: the schema says integer, and a client with a bug should hear about it."""

    def _whole(self, request: Any, name: str, *, minimum: int) -> None:
        raw = request.query_params.get(name)
        if raw is None or raw == "":
            return
        try:
            value = int(raw)
        except ValueError:
            value = minimum - 1
        if value < minimum:
            raise ApiError(f"{name} must be a whole number of at least {minimum}.", code="invalid",
                           fields={name: [f"A whole number of at least {minimum}."]})

    def paginate_queryset(self, queryset: Any, request: Any, view: Any = None) -> Any:
        self._whole(request, self.limit_query_param, minimum=1)
        self._whole(request, self.offset_query_param, minimum=0)
        return super().paginate_queryset(queryset, request, view)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        params: list[dict[str, Any]] = super().get_schema_operation_parameters(view)
        for p in params:
            p["schema"]["minimum"] = 1 if p["name"] == self.limit_query_param else 0
        return params
