"""API v1: evaluation results (public read) and starting a run (admins)."""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny, BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from facecommons.accounts.roles import is_admin
from facecommons.common.api import ApiError, LimitOffsetPagination
from facecommons.evaluation import selectors, services
from facecommons.evaluation.gatekeeper import gatekeeper_audit_latest
from facecommons.evaluation.models import EvaluationRun, RunScope, RunStatus
from facecommons.evaluation.tasks import enqueue_run


def _run_serializer(name: str, many: bool = False) -> Any:
    """The documented shape of a run (fresh field instances each time: fields bind once)."""
    metric = inline_serializer(f"{name}Metric", fields={
        "category": serializers.CharField(), "value": serializers.CharField(), "metric": serializers.CharField(),
        "estimate": serializers.FloatField(allow_null=True), "n": serializers.IntegerField(allow_null=True),
        "ci_low": serializers.FloatField(allow_null=True), "ci_high": serializers.FloatField(allow_null=True),
    }, many=True)
    model = inline_serializer(f"{name}Model", fields={
        "id": serializers.CharField(), "version": serializers.CharField(),
        "task": serializers.ChoiceField(choices=["detection", "verification"]), "metrics": metric}, many=True)
    return inline_serializer(name, many=many, fields={
        "id": serializers.IntegerField(), "scope": serializers.ChoiceField(choices=RunScope.values),
        "snapshot": serializers.CharField(allow_null=True), "started_at": serializers.DateTimeField(),
        "finished_at": serializers.DateTimeField(allow_null=True), "models": model})


RunSerializer = _run_serializer("Evaluation")
RunPageSerializer = inline_serializer("EvaluationPage", fields={
    "count": serializers.IntegerField(), "next": serializers.URLField(allow_null=True),
    "previous": serializers.URLField(allow_null=True), "results": _run_serializer("EvaluationItem", many=True),
})


class StartSerializer(serializers.Serializer):
    scope = serializers.ChoiceField(choices=RunScope.values, default=RunScope.CURRENT)
    snapshot = serializers.CharField(max_length=20, required=False, allow_blank=True, default="")
    source = serializers.SlugField(max_length=60, required=False, allow_blank=True, default="")  # type: ignore[assignment]
    models = serializers.ListField(child=serializers.CharField(max_length=60), required=False, allow_empty=True,
                                   max_length=20, default=list)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["scope"] == RunScope.SNAPSHOT and not attrs["snapshot"]:
            raise serializers.ValidationError({"snapshot": ["A snapshot run needs the snapshot version."]})
        if attrs["scope"] == RunScope.SOURCE and not attrs["source"]:
            raise serializers.ValidationError({"source": ["A source run needs the source name."]})
        return attrs


class ReadPublicStartAdmin(BasePermission):
    message = "Only administrators can start an evaluation."

    def has_permission(self, request: Request, view: Any) -> bool:
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return True
        return is_admin(request.user)


class EvaluationListApi(APIView):
    permission_classes = [ReadPublicStartAdmin]

    @extend_schema(operation_id="evaluations_list", summary="Finished evaluations, newest first (public)",
                   responses={200: RunPageSerializer})
    def get(self, request: Request) -> Response:
        paginator = LimitOffsetPagination()
        paginator.default_limit = 10
        page = paginator.paginate_queryset(selectors.runs_done(), request, view=self)
        return paginator.get_paginated_response([selectors.run_payload(r) for r in page or []])

    @extend_schema(operation_id="evaluations_start", summary="Start an evaluation (admins)", request=StartSerializer,
                   responses={202: inline_serializer("EvaluationStarted", fields={
                       "id": serializers.IntegerField(), "status": serializers.CharField(),
                       "scope": serializers.CharField(), "items": serializers.IntegerField(),
                       "unavailable": serializers.ListField(child=serializers.DictField())}),
                       409: OpenApiResponse(description="a run of this scope is still active")})
    def post(self, request: Request) -> Response:
        if not request.user.is_authenticated:
            raise ApiError(gettext("Log in as an administrator to start an evaluation."), code="not_authenticated",
                           status_code=401)
        s = StartSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        d = s.validated_data
        run = services.evaluation_run_start(scope=d["scope"], snapshot_version=d["snapshot"],
                                            source_name=d["source"], models=d["models"] or None,
                                            trigger="api", actor=request.user)

        enqueue_run(run.pk)
        return Response({"id": run.pk, "status": run.status, "scope": run.scope_key, "items": run.items_total,
                         "unavailable": run.unavailable}, status=status.HTTP_202_ACCEPTED)


class EvaluationLatestApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(operation_id="evaluations_latest", summary="The newest finished evaluation (public)", responses={200: RunSerializer})
    def get(self, request: Request) -> Response:
        run = selectors.run_latest_done()
        if run is None:
            raise ApiError(gettext("No evaluation has finished yet."), code="not_found", status_code=404)
        return Response(selectors.run_payload(run))


class EvaluationDetailApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(operation_id="evaluations_retrieve", summary="One evaluation (public)", responses={200: RunSerializer})
    def get(self, request: Request, run_id: int) -> Response:
        run = get_object_or_404(EvaluationRun, pk=run_id, status=RunStatus.DONE)
        return Response(selectors.run_payload(run))


class GatekeeperApi(APIView):
    permission_classes = [AllowAny]

    @extend_schema(operation_id="gatekeeper_audit", summary="The gatekeeper audit per group (public)",
                   description="For every category and the evaluation's intersections: the share of photos the "
                               "pipeline flagged or did not send to review, of review requests, of findings people "
                               "overturned, of approved photos the reference detector missed, and of abuse flags "
                               "raised and dismissed, with n and a 95% Wilson interval. Groups below the small-count "
                               "limit show neither n nor figures.",
                   responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request) -> Response:
        return Response(selectors.gatekeeper_payload(gatekeeper_audit_latest()))
