"""API v1 of the workbench: training runs for admins and researchers."""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from facecommons.accounts.roles import is_admin
from facecommons.common.api import ApiError, LimitOffsetPagination
from facecommons.workbench import selectors, services
from facecommons.workbench.models import PolicyKind, Task, TrainingRun
from facecommons.workbench.tasks import enqueue_training


class CanUseWorkbench(BasePermission):
    message = "The workbench is for administrators and researchers."

    def has_permission(self, request: Request, view: Any) -> bool:
        return selectors.can_use(request.user)


class TrainingStartSerializer(serializers.Serializer):
    snapshot = serializers.CharField(max_length=20)
    task = serializers.ChoiceField(choices=Task.values)
    policy = serializers.ChoiceField(choices=PolicyKind.values, default=PolicyKind.AS_IS)
    policy_category = serializers.CharField(max_length=80, required=False, allow_blank=True, default="")
    policy_values = serializers.ListField(child=serializers.CharField(max_length=200), required=False, default=list,
                                          max_length=50)
    max_photos = serializers.IntegerField(required=False, allow_null=True, min_value=2, default=None)
    category = serializers.CharField(max_length=80, required=False, allow_blank=True, default="")
    seed = serializers.IntegerField(min_value=0, max_value=2**31 - 1, default=0)
    epochs = serializers.IntegerField(min_value=1, max_value=200, default=8)


def start_from(data: dict[str, Any], actor: Any) -> TrainingRun:
    """Create and enqueue a run from validated start data (shared by the API and the form)."""
    try:
        run = services.training_run_create(
            snapshot_version=data["snapshot"], task=data["task"], seed=data["seed"], category=data["category"],
            epochs=data["epochs"], actor=actor,
            policy={"kind": data["policy"], "category": data["policy_category"], "values": data["policy_values"],
                    "max_photos": data["max_photos"]})
    except services.WorkbenchError as exc:  # well formed, but no such published snapshot or no such recipe
        raise ApiError(str(exc), code="run_refused") from exc
    enqueue_training(run.pk)
    return run


def _run(request: Request, run_id: int) -> TrainingRun:
    return get_object_or_404(selectors.runs_for(request.user).defer(None), pk=run_id)


class TrainingRunListApi(APIView):
    permission_classes = [CanUseWorkbench]

    @extend_schema(operation_id="training_runs_list", summary="Training runs, newest first", responses={200: dict})
    def get(self, request: Request) -> Response:
        paginator = LimitOffsetPagination()
        paginator.default_limit = 20
        page = paginator.paginate_queryset(selectors.runs_for(request.user), request, view=self)
        return paginator.get_paginated_response([selectors.run_payload(r) for r in page or []])

    @extend_schema(operation_id="training_runs_start", summary="Start a training run", request=TrainingStartSerializer,
                   responses={202: dict})
    def post(self, request: Request) -> Response:
        s = TrainingStartSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        run = start_from(s.validated_data, request.user)
        return Response(selectors.run_payload(run), status=status.HTTP_202_ACCEPTED)


class TrainingRunDetailApi(APIView):
    permission_classes = [CanUseWorkbench]

    @extend_schema(operation_id="training_runs_retrieve", summary="One training run with its results",
                   responses={200: dict})
    def get(self, request: Request, run_id: int) -> Response:
        return Response(selectors.run_payload(_run(request, run_id), full=True))


class TrainingRunCancelApi(APIView):
    permission_classes = [CanUseWorkbench]

    @extend_schema(operation_id="training_runs_cancel", summary="Cancel a queued or running training run",
                   request=None, responses={202: dict})
    def post(self, request: Request, run_id: int) -> Response:
        try:
            run = services.training_run_cancel(run=_run(request, run_id), actor=request.user)
        except services.WorkbenchError as exc:
            raise ApiError(str(exc), code="conflict", status_code=409) from exc
        return Response(selectors.run_payload(run), status=status.HTTP_202_ACCEPTED)


class TrainingRegisterSerializer(serializers.Serializer):
    model_id = serializers.RegexField(r"^[a-z0-9][a-z0-9-]{2,59}$", required=False, allow_blank=True, default="")


class TrainingRunRegisterApi(APIView):
    permission_classes = [CanUseWorkbench]

    @extend_schema(operation_id="training_runs_register", summary="Register the run's model as a reference model "
                   "(admins)", request=TrainingRegisterSerializer, responses={200: dict})
    def post(self, request: Request, run_id: int) -> Response:
        if not is_admin(request.user):
            raise ApiError("Only administrators can register a reference model.", code="permission_denied",
                           status_code=403)
        s = TrainingRegisterSerializer(data=request.data)
        s.is_valid(raise_exception=True)
        try:
            run = services.training_run_register(run=_run(request, run_id), actor=request.user,
                                                 model_id=s.validated_data["model_id"])
        except services.WorkbenchError as exc:
            raise ApiError(str(exc), code="invalid") from exc
        return Response(selectors.run_payload(run))
