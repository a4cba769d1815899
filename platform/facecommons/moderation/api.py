"""Moderation API v1: lease the next photo, record a decision. Moderators and admins only."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils.translation import gettext, gettext_lazy
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from facecommons.accounts.roles import is_moderator
from facecommons.common.api import ApiError
from facecommons.common.fields import StrictUUIDField
from facecommons.contributions.models import Contribution
from facecommons.moderation.models import Decision, RejectReason, ReviewLease
from facecommons.moderation.selectors import contribution_evidence
from facecommons.moderation.services import queue_lease_next, review_decide

ERROR = OpenApiResponse(description='{"error": {"code", "message", "fields"?}}')
MAX_HELD = 10


class IsModerator(BasePermission):
    message = gettext_lazy("Only moderators and admins can use the moderation queue.")

    def has_permission(self, request: Request, view: Any) -> bool:
        return is_moderator(request.user)


class NextSerializer(serializers.Serializer):
    held = serializers.ListField(child=StrictUUIDField(), required=False, max_length=MAX_HELD,
                                 help_text="ids the client already holds (its buffer): not handed out again")


class DecisionSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=Decision.choices)
    reason_code = serializers.ChoiceField(choices=RejectReason.choices, required=False, allow_blank=True,
                                          allow_null=True)
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000, trim_whitespace=True)
    categories = serializers.DictField(required=False, allow_empty=True)
    face_box = serializers.ListField(child=serializers.FloatField(), required=False, min_length=4, max_length=4,
                                     help_text="[x1, y1, x2, y2] in pixels of the stored original: required to "
                                               "approve a photo in which the detector found no face")


def lease_payload(c: Contribution, moderator: Any) -> dict[str, Any]:
    data = contribution_evidence(c)
    lease = ReviewLease.objects.filter(contribution=c, moderator_id=moderator.pk).values_list("expires_at",
                                                                                               flat=True).first()
    data["lease_expires_at"] = lease.isoformat() if lease else None
    return data


class NextApi(APIView):
    permission_classes = [IsAuthenticated, IsModerator]

    @extend_schema(request=NextSerializer, summary="Lease the next photo to review",
                   responses={200: OpenApiResponse(description="the contribution, its evidence and image URLs"),
                              204: OpenApiResponse(description="the queue is empty"), 403: ERROR})
    def post(self, request: Request) -> Response:
        s = NextSerializer(data=request.data if isinstance(request.data, dict) else {})
        s.is_valid(raise_exception=True)
        c = queue_lease_next(moderator=request.user, exclude_ids=s.validated_data.get("held") or None)
        if c is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(lease_payload(c, request.user))


class DecisionApi(APIView):
    permission_classes = [IsAuthenticated, IsModerator]

    @extend_schema(request=DecisionSerializer, summary="Record a decision on a leased photo",
                   responses={200: inline_serializer("DecisionResult", {
                       "outcome": serializers.CharField(), "status": serializers.CharField()}),
                       400: ERROR, 403: ERROR, 404: ERROR, 409: ERROR})
    def post(self, request: Request, pk: Any) -> Response:
        if not isinstance(request.data, dict):
            raise ApiError(gettext("Send a JSON object."), code="invalid")
        s = DecisionSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        try:
            c = Contribution.objects.get(pk=pk)
        except (Contribution.DoesNotExist, ValidationError, ValueError) as exc:
            raise Http404 from exc
        d = s.validated_data
        result = review_decide(moderator=request.user, contribution=c, decision=d["decision"],
                               reason_code=d.get("reason_code") or None, note=d.get("note", ""),
                               categories=d.get("categories") or None, face_box=d.get("face_box") or None)
        return Response({"outcome": result.outcome, "status": result.contribution.status,
                         "corrected_categories": result.contribution.corrected_categories})
