"""Contributions API v1: taxonomy, upload, own contributions, permission-checked images."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation, ValidationError
from django.http import Http404
from django.http.response import HttpResponseBase
from django.utils.translation import gettext
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from facecommons.common.api import ApiError
from facecommons.contributions.models import Contribution, ContributionStatus
from facecommons.contributions.review_requests import contribution_request_review
from facecommons.contributions.selectors import contribution_list_for_owner, taxonomy_as_dict, taxonomy_current
from facecommons.contributions.serializers import (
    ContributionPageSerializer,
    ContributionSerializer,
    ContributionUpdateSerializer,
    ContributionUploadSerializer,
    TaxonomySerializer,
    parse_json_field,
)
from facecommons.contributions.services import (
    contribution_create,
    contribution_delete,
    contribution_update_categories,
)
from facecommons.contributions.upload import max_upload_bytes
from facecommons.contributions.views_image import VARIANTS, serve_contribution_image

logger = logging.getLogger(__name__)
ERROR = OpenApiResponse(description='{"error": {"code", "message", "fields"?}}')
# Room for the other multipart fields and the boundaries around a file at the limit.
MULTIPART_SLACK = 1024 * 1024


def request_data(request: Request) -> Any:
    """``request.data``, with Django's size and count guards answered as JSON 4xx."""
    try:
        return request.data
    except RequestDataTooBig as exc:
        raise ApiError(gettext("The request is too large."), code="request_too_large", status_code=413) from exc
    except SuspiciousOperation as exc:
        raise ApiError(f"The request could not be read: {exc}", code="bad_request", status_code=400) from exc


def validation_error(exc: ValidationError) -> ApiError:
    fields = exc.message_dict if hasattr(exc, "error_dict") else {"categories": exc.messages}
    message = "; ".join(" ".join(v) for v in fields.values()) or "Invalid categories."
    return ApiError(message, code="invalid_categories", fields=fields)


def own_contribution(request: Request, pk: Any) -> Contribution:
    try:
        return contribution_list_for_owner(owner=request.user).select_related("taxonomy").get(pk=pk)
    except (Contribution.DoesNotExist, ValidationError, ValueError) as exc:
        raise Http404 from exc


class TaxonomyApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(responses=TaxonomySerializer, summary="The current category taxonomy")
    def get(self, request: Request) -> Response:
        return Response(taxonomy_as_dict(taxonomy_current()))


class ContributionListApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(operation_id="contributions_list", responses=ContributionPageSerializer,
                   summary="Your own contributions, newest first",
                   parameters=[OpenApiParameter("status", str, enum=list(ContributionStatus.values)),
                               OpenApiParameter("limit", {"type": "integer", "minimum": 1}, description="Page size (default 50, at least 1)."),
                               OpenApiParameter("offset", {"type": "integer", "minimum": 0}, description="Index of the first result (at least 0).")])
    def get(self, request: Request) -> Response:
        qs = contribution_list_for_owner(owner=request.user).select_related("taxonomy")
        status_filter = request.query_params.get("status")
        if status_filter:
            if status_filter not in ContributionStatus.values:
                raise ApiError(f"Unknown status {status_filter!r}; use one of {', '.join(ContributionStatus.values)}.",
                               code="invalid", fields={"status": ["Not a known status."]})
            qs = qs.filter(status=status_filter)
        pagination: Any = api_settings.DEFAULT_PAGINATION_CLASS
        if pagination is not None:
            paginator = pagination()
            page = paginator.paginate_queryset(qs, request, view=self)
            data = ContributionSerializer(page, many=True, context={"request": request}).data
            return paginator.get_paginated_response(data)
        return Response(ContributionSerializer(qs, many=True, context={"request": request}).data)

    @extend_schema(
        request={"multipart/form-data": ContributionUploadSerializer},
        responses={201: ContributionSerializer, 400: ERROR, 403: ERROR, 409: ERROR, 413: ERROR, 415: ERROR,
                   429: ERROR, 503: ERROR},
        summary="Upload one photo with its declared categories",
        description="403 without current consent; 409 for an exact duplicate; 413 too large; 415 not a "
                    "JPEG/PNG/WebP/HEIC photo; 429 over the daily limit.",
    )
    def post(self, request: Request) -> Response:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > max_upload_bytes() + MULTIPART_SLACK:
            # Refuse before reading the body: nothing gets spooled to disk.
            raise ApiError(gettext("The file is too large: at most %(max)s MB per photo.")
                           % {"max": max_upload_bytes() // (1024 * 1024)},
                           code="file_too_large", status_code=413)
        data = request_data(request)
        upload = request.FILES.get("image")
        if upload is None:
            raise ApiError(gettext("Please attach a photo in the 'image' field (multipart/form-data)."), code="invalid",
                           fields={"image": [gettext("This field is required.")]})
        categories = parse_json_field(data.get("categories"), "categories")
        if categories is None:
            raise ApiError(gettext("Please declare the categories."), code="invalid",
                           fields={"categories": [gettext("This field is required.")]})
        free_text = parse_json_field(data.get("free_text"), "free_text")
        try:
            c = contribution_create(owner=request.user, fileobj=upload, filename=upload.name or "",
                                    content_type=upload.content_type, categories=categories, free_text=free_text)
        except ValidationError as exc:
            raise validation_error(exc) from exc
        except OSError as exc:  # storage full or unreachable: our fault, and worth a retry
            logger.exception("could not store an upload")
            raise ApiError(gettext("We could not store your photo just now. Please try again in a few minutes."),
                           code="storage_unavailable", status_code=503) from exc
        c = contribution_list_for_owner(owner=request.user).select_related("taxonomy").get(pk=c.pk)
        return Response(ContributionSerializer(c, context={"request": request}).data, status=status.HTTP_201_CREATED)


class ContributionDetailApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: ContributionSerializer, 404: ERROR}, summary="One of your contributions")
    def get(self, request: Request, pk: Any) -> Response:
        c = own_contribution(request, pk)
        return Response(ContributionSerializer(c, context={"request": request}).data)

    @extend_schema(request=ContributionUpdateSerializer, responses={200: ContributionSerializer, 400: ERROR,
                                                                     404: ERROR, 409: ERROR},
                   summary="Change the declared categories (only before review)")
    def patch(self, request: Request, pk: Any) -> Response:
        c = own_contribution(request, pk)
        data = request_data(request)
        categories = parse_json_field(data.get("categories"), "categories") or {}
        free_text = parse_json_field(data.get("free_text"), "free_text")
        if not categories and free_text is None:
            raise ApiError(gettext("Nothing to change: send 'categories' and/or 'free_text'."), code="invalid")
        merged_text = {**c.categories_free_text, **(free_text or {})}
        try:
            contribution_update_categories(contribution=c, categories={**c.categories, **categories},
                                           free_text=merged_text, actor=request.user)
        except ValidationError as exc:
            raise validation_error(exc) from exc
        c = own_contribution(request, pk)
        return Response(ContributionSerializer(c, context={"request": request}).data)

    @extend_schema(responses={204: None, 404: ERROR}, summary="Delete a contribution and every stored copy")
    def delete(self, request: Request, pk: Any) -> Response:
        c = own_contribution(request, pk)
        contribution_delete(contribution=c, actor=request.user, reason="deleted_by_owner")
        return Response(status=status.HTTP_204_NO_CONTENT)


class ContributionReviewRequestApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request={"application/json": {"type": "object", "properties": {"note": {"type": "string"}}}},
                   responses={200: ContributionSerializer, 400: ERROR, 404: ERROR, 409: ERROR},
                   summary="Ask a person to check a photo the pipeline did not send to review",
                   description="For a photo waiting for you (no face found) or rejected automatically. "
                               "Optional 'note' for the moderators. 409 for a second request or a photo "
                               "that is not waiting for you; 404 for another person's photo.")
    def post(self, request: Request, pk: Any) -> Response:
        own_contribution(request, pk)  # 404 before anything else for another person's photo
        data = request_data(request)
        note = data.get("note", "") if hasattr(data, "get") else ""
        if not isinstance(note, str):
            raise ApiError("The note must be text.", code="invalid", fields={"note": ["Must be text."]})
        contribution_request_review(contribution_id=pk, owner=request.user, note=note)
        c = own_contribution(request, pk)
        return Response(ContributionSerializer(c, context={"request": request}).data)


class ContributionImageApi(APIView):
    # Anonymous callers get the same 404 as everyone else without access.
    permission_classes = [AllowAny]

    @extend_schema(
        parameters=[OpenApiParameter("variant", str, enum=VARIANTS, default="original")],
        responses={(200, "image/jpeg"): OpenApiTypes.BINARY, 404: ERROR},
        summary="The image bytes (owner, moderators and admins; 404 for anyone else)",
    )
    def get(self, request: Request, pk: Any) -> HttpResponseBase:
        return serve_contribution_image(request, pk, request.query_params.get("variant"))
