"""API v1: snapshots (list, detail, download, withdrawn list, build), applications, stats."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import permissions, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from facecommons.accounts.roles import is_admin
from facecommons.accounts.tokens import ApiTokenAuthentication
from facecommons.common.api import ApiError
from facecommons.releases import selectors, services
from facecommons.releases.api_contents import serve_subset, snapshot_for
from facecommons.releases.auth import PersonalTokenAuthentication
from facecommons.releases.download import serve_snapshot
from facecommons.releases.models import ResearcherApplication, Snapshot, SnapshotStatus
from facecommons.releases.serializers import (
    ApplicationCreateSerializer,
    ApplicationDecisionSerializer,
    ApplicationSerializer,
    SnapshotCreateSerializer,
    SnapshotSerializer,
)
from facecommons.releases.withdrawals import withdrawn_csv

AUTH = [PersonalTokenAuthentication, ApiTokenAuthentication, SessionAuthentication]


class IsAdminRole(permissions.BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        return is_admin(request.user)


class ReleasesView(APIView):
    authentication_classes = AUTH
    permission_classes = [permissions.IsAuthenticated]


_snapshot = snapshot_for


class SnapshotListView(ReleasesView):
    @extend_schema(responses=SnapshotSerializer(many=True), summary="List snapshots (admins also see builds)")
    def get(self, request: Request) -> Response:
        qs = selectors.snapshots_visible(request.user)
        return Response(SnapshotSerializer(qs, many=True).data)

    @extend_schema(request=SnapshotCreateSerializer, responses={202: SnapshotSerializer},
                   summary="Start a snapshot build (admin)")
    def post(self, request: Request) -> Response:
        if not is_admin(request.user):
            raise ApiError(gettext("Only admins start snapshot builds."), code="forbidden", status_code=403)
        ser = SnapshotCreateSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        purge_of = None
        if ser.validated_data["purge_of"]:
            purge_of = Snapshot.objects.filter(version=ser.validated_data["purge_of"],
                                               status=SnapshotStatus.PUBLISHED).first()
            if purge_of is None:
                raise ApiError(gettext("purge_of must be the version of a published snapshot."), code="invalid",
                               fields={"purge_of": ["No such published snapshot."]})
        snap = services.snapshot_request(actor=request.user, note=ser.validated_data["note"], purge_of=purge_of)
        return Response(SnapshotSerializer(snap).data, status=status.HTTP_202_ACCEPTED)


class SnapshotDetailView(ReleasesView):
    @extend_schema(responses=SnapshotSerializer, summary="Snapshot metadata, sizes, checksum, counts, progress")
    def get(self, request: Request, version: str) -> Response:
        return Response(SnapshotSerializer(_snapshot(request, version)).data)


class SnapshotDownloadView(ReleasesView):
    @extend_schema(responses={(200, "application/x-tar"): OpenApiResponse(description="the archive"),
                              206: OpenApiResponse(description="a byte range (Range: bytes=a-b)"),
                              403: OpenApiResponse(description="not an approved researcher / agreement"),
                              416: OpenApiResponse(description="range not satisfiable")},
                   summary="Download the archive (approved researchers with the current agreement)")
    def get(self, request: Request, version: str) -> HttpResponseBase:
        snap = _snapshot(request, version)
        ok, why = services.researcher_can_download(request.user)
        if not ok:
            raise ApiError(why, code="not_allowed", status_code=403)
        if snap.status != SnapshotStatus.PUBLISHED:
            raise ApiError(gettext("This snapshot is not published."), code="not_published", status_code=409)
        if snap.manifest_sha256 and request.query_params:
            return serve_subset(request, snap)  # filters: a subset
        return serve_snapshot(request._request, snap, user=request.user, token=request.auth)


class SnapshotWithdrawnView(ReleasesView):
    @extend_schema(responses={(200, "text/csv"): OpenApiResponse(description="subject_id,file_name,reason,withdrawn_at")},
                   summary="Files to delete from a snapshot after withdrawals (CSV)")
    def get(self, request: Request, version: str) -> HttpResponse:
        snap = _snapshot(request, version)
        if not (services.researcher_is_approved(request.user) or is_admin(request.user)):
            raise ApiError(gettext("Only approved researchers see withdrawal lists."), code="not_allowed", status_code=403)
        resp = HttpResponse(withdrawn_csv(snap), content_type="text/csv; charset=utf-8")
        resp["Content-Disposition"] = f'attachment; filename="withdrawn-{snap.version}.csv"'
        return resp


class ApplicationCreateView(ReleasesView):
    @extend_schema(request=ApplicationCreateSerializer, responses={201: ApplicationSerializer},
                   summary="Apply for research access (accepting the current data-use agreement)")
    def post(self, request: Request) -> Response:
        ser = ApplicationCreateSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        d = ser.validated_data
        app = services.application_submit(user=request.user, name=d["name"], institution=d["institution"],
                                          purpose=d["purpose"], agreement_version=d["agreement_version"],
                                          agreement_language=d["agreement_language"])
        return Response(ApplicationSerializer(app).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses=ApplicationSerializer(many=True), summary="Your applications (admins: all)")
    def get(self, request: Request) -> Response:
        qs = ResearcherApplication.objects.select_related("agreement").order_by("-created_at")
        if not is_admin(request.user):
            qs = qs.filter(user=request.user)  # type: ignore[misc]
        return Response(ApplicationSerializer(qs[:200], many=True).data)


class ApplicationDecisionView(ReleasesView):
    permission_classes = [permissions.IsAuthenticated, IsAdminRole]

    @extend_schema(request=ApplicationDecisionSerializer, responses=ApplicationSerializer,
                   summary="Approve or refuse an application (admin; a refusal needs a reason)")
    def post(self, request: Request, pk: int) -> Response:
        app = get_object_or_404(ResearcherApplication, pk=pk)
        ser = ApplicationDecisionSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        services.application_decide(application=app, actor=request.user,
                                    approve=ser.validated_data["decision"] == "approve",
                                    reason=ser.validated_data["reason"])
        return Response(ApplicationSerializer(app).data)


class StatsView(APIView):
    permission_classes = [permissions.AllowAny]
    authentication_classes: list = []

    @extend_schema(summary="Public dataset statistics (small counts suppressed)",
                   responses={200: OpenApiResponse(description=(
                       "approved_photos, min_count, categories[].values[] and intersections[].cells[] with "
                       "count (null when suppressed), suppressed, display; undeclared share; monthly growth"))})
    def get(self, request: Request) -> Response:
        return Response(selectors.stats_compute())
