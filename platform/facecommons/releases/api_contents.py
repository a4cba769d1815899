"""API v1: a version's contents: manifest, delta, single files, metadata-only and filtered
downloads, the signed removal manifest and its acknowledgement, the signing key.

Every response that hands out contents (the JSON lists included) writes a ``Download`` row.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from typing import Any

from django.http import StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import permissions, serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from facecommons.accounts.roles import is_admin
from facecommons.accounts.tokens import ApiTokenAuthentication
from facecommons.common.api import ApiError
from facecommons.releases import contents, selectors, services, signing
from facecommons.releases.archive.manifest import Entry
from facecommons.releases.archive.store import BlobStore
from facecommons.releases.auth import PersonalTokenAuthentication
from facecommons.releases.download import download_log, serve_blob, serve_tar
from facecommons.releases.models import DownloadKind, Snapshot, SnapshotStatus
from facecommons.releases.withdrawals import removal_acknowledge

AUTH = [PersonalTokenAuthentication, ApiTokenAuthentication, SessionAuthentication]


def snapshot_for(request: Request, version: str) -> Snapshot:
    """The snapshot named ``version``; ``latest`` is the most recently published one."""
    qs = selectors.snapshots_visible(request.user)
    if version == "latest":
        snap = qs.filter(status=SnapshotStatus.PUBLISHED).order_by("-published_at", "-id").first()
        if snap is None:
            raise ApiError("No snapshot has been published yet.", code="not_found", status_code=404)
        return snap  # type: ignore[no-any-return]
    return get_object_or_404(qs, version=version)  # type: ignore[no-any-return]


def published_for_download(request: Request, version: str) -> Snapshot:
    """A published snapshot the caller may download (approved, current agreement)."""
    snap = snapshot_for(request, version)
    ok, why = services.researcher_can_download(request.user)
    if not ok:
        raise ApiError(why, code="not_allowed", status_code=403)
    if snap.status != SnapshotStatus.PUBLISHED:
        raise ApiError("This snapshot is not published.", code="not_published", status_code=409)
    if not snap.manifest_sha256:
        raise ApiError("This snapshot predates manifests: download its archive.", code="no_manifest", status_code=404)
    return snap


def _json_stream(head: dict[str, Any], key: str, items: Iterator[dict[str, Any]]) -> Iterator[bytes]:
    """``head`` with ``key`` a list streamed item by item (a manifest can hold millions of files)."""
    opening = json.dumps(head)[:-1] + (", " if head else "") + json.dumps(key) + ": ["
    yield opening.encode()
    for i, item in enumerate(items):
        yield ((", " if i else "") + json.dumps(item)).encode()
    yield b"]}\n"


def _entry(e: Any) -> dict[str, Any]:
    return {"path": e.path, "sha256": e.sha256, "size": e.size}


class ContentsView(APIView):
    authentication_classes = AUTH
    permission_classes = [permissions.IsAuthenticated]


class ManifestView(ContentsView):
    @extend_schema(summary="The version's immutable manifest: every file's path, size and SHA-256",
                   parameters=[OpenApiParameter("as", str, description="json (default) or text: the exact "
                                                "manifest bytes, whose SHA-256 is manifest_sha256")],
                   responses={200: OpenApiResponse(description="{version, manifest_sha256, files: [{path, sha256, size}]}")})
    def get(self, request: Request, version: str) -> HttpResponseBase:
        snap = published_for_download(request, version)
        download_log(request._request, snap, user=request.user, token=request.auth, kind=DownloadKind.MANIFEST)
        if request.query_params.get("as") == "text":
            def text() -> Iterator[bytes]:
                with BlobStore().open(snap.manifest_sha256) as fh:
                    yield from iter(lambda: fh.read(1 << 16), b"")

            return StreamingHttpResponse(text(), content_type="text/plain; charset=utf-8")
        head = {"version": snap.version, "manifest_sha256": snap.manifest_sha256, "files_count": snap.manifest_files,
                "bytes": snap.manifest_bytes, "withdrawn": sorted(contents.withdrawn_paths(snap))}
        return StreamingHttpResponse(_json_stream(head, "files", (_entry(e) for e in contents.manifest_entries(snap))),
                                     content_type="application/json")


class DeltaView(ContentsView):
    @extend_schema(summary="What turns version `from` into this one: files to add and to remove",
                   parameters=[OpenApiParameter("from", str, required=True, description="an earlier version"),
                               OpenApiParameter("as", str, description="json (default) or tar: the added files and "
                                                "DELETED.txt, the paths to delete")],
                   responses={200: OpenApiResponse(description="{version, from, changes: [{op, path, sha256, size}]}")})
    def get(self, request: Request, version: str) -> HttpResponseBase:
        snap = published_for_download(request, version)
        base_version = request.query_params.get("from", "")
        if not base_version:
            raise ApiError("Give the version you have: ?from=VERSION.", code="invalid", fields={"from": ["Required."]})
        base = published_for_download(request, base_version)
        if request.query_params.get("as") == "tar":
            return _delta_tar(request, snap, base)
        download_log(request._request, snap, user=request.user, token=request.auth, kind=DownloadKind.DELTA,
                     detail=f"from={base.version}")
        head = {"version": snap.version, "from": base.version, "manifest_sha256": snap.manifest_sha256,
                "withdrawn": sorted(contents.withdrawn_paths(snap))}
        changes = ({"op": c.op, **_entry(c.entry)} for c in contents.delta(snap, base))
        return StreamingHttpResponse(_json_stream(head, "changes", changes), content_type="application/json")


def _delta_tar(request: Request, snap: Snapshot, base: Snapshot) -> HttpResponseBase:
    """The delta as one tar: the added files, and DELETED.txt listing the paths to delete."""
    gone = contents.withdrawn_paths(snap)
    added: list[Entry] = []
    spool = tempfile.TemporaryFile("w+b")  # noqa: SIM115 - closed with the response
    for change in contents.delta(snap, base):
        if change.op == "remove":
            spool.write(f"{change.entry.path}\n".encode())
        elif change.entry.path not in gone:
            added.append(change.entry)
    for path in sorted(gone):
        spool.write(f"{path}\n".encode())
    deleted = Entry(path="DELETED.txt", sha256="", size=spool.tell())

    class _Open:
        def __enter__(self) -> Any:
            spool.seek(0)
            return spool

        def __exit__(self, *exc: object) -> None:
            return None

    entries = sorted([*added, deleted])
    resp = serve_tar(request._request, snap, user=request.user, token=request.auth, kind=DownloadKind.DELTA,
                     detail=f"from={base.version} as=tar", entries=lambda: entries,
                     etag=f"{snap.manifest_sha256}.{base.manifest_sha256}.{snap.withdrawals_count}",
                     filename=f"facecommons-{base.version}-to-{snap.version}.tar", extra={"DELETED.txt": _Open})
    resp._resource_closers.append(spool.close)  # type: ignore[attr-defined]  # closed with the response
    return resp


class FileView(ContentsView):
    @extend_schema(summary="One file of the version (resumable: HTTP Range; ETag is its SHA-256)",
                   responses={(200, "application/octet-stream"): OpenApiResponse(description="the file"),
                              206: OpenApiResponse(description="a byte range"),
                              410: OpenApiResponse(description="withdrawn: delete it")})
    def get(self, request: Request, version: str, path: str) -> HttpResponseBase:
        snap = published_for_download(request, version)
        entry = contents.snapshot_file(snap, path)
        return serve_blob(request._request, snap, user=request.user, token=request.auth, entry=entry)


class MetadataView(ContentsView):
    @extend_schema(summary="Metadata only (tar): metadata.parquet, metadata.jsonl, croissant.json, DATASHEET.md, ...",
                   responses={(200, "application/x-tar"): OpenApiResponse(description="the documents")})
    def get(self, request: Request, version: str) -> HttpResponseBase:
        snap = published_for_download(request, version)
        docs = contents.metadata_entries(snap)
        return serve_tar(request._request, snap, user=request.user, token=request.auth, kind=DownloadKind.METADATA,
                         detail="", entries=lambda: docs, etag=f"{snap.manifest_sha256}.metadata",
                         filename=f"facecommons-{snap.version}-metadata.tar")


def serve_subset(request: Request, snap: Snapshot) -> HttpResponseBase:
    """The photos matching the query's filters, with their crops and metadata rows (tar)."""
    filters = contents.subset_filters({k: str(v) for k, v in request.query_params.items()})
    subset = contents.subset(snap, filters)
    detail = "&".join(f"{k}={','.join(sorted(v))}" for k, v in sorted(filters.items()))
    resp = serve_tar(request._request, snap, user=request.user, token=request.auth, kind=DownloadKind.SUBSET,
                     detail=detail, entries=lambda: subset.entries, etag=contents.subset_etag(snap, filters),
                     filename=f"facecommons-{snap.version}-subset.tar", extra=subset.extra)
    resp._resource_closers.append(subset.close)  # type: ignore[attr-defined]  # closed with the response
    resp["X-Subset-Photos"] = str(subset.photos)
    return resp


class RemovalsView(ContentsView):
    @extend_schema(summary="The signed removal manifest: files withdrawn from this version (or since `since`)",
                   parameters=[OpenApiParameter("since", str, description="include every version from this one")],
                   responses={200: OpenApiResponse(description="{manifest, sha256, signature, public_key, key_id}")})
    def get(self, request: Request, version: str) -> Response:
        snap = snapshot_for(request, version)
        if not (services.researcher_is_approved(request.user) or is_admin(request.user)):
            raise ApiError("Only approved researchers see withdrawal lists.", code="not_allowed", status_code=403)
        since = None
        if request.query_params.get("since"):
            since = get_object_or_404(Snapshot, version=request.query_params["since"], status=SnapshotStatus.PUBLISHED)
        download_log(request._request, snap, user=request.user, token=request.auth, kind=DownloadKind.REMOVALS,
                     detail=f"since={since.version}" if since else "")
        return Response(signing.removal_manifest(snapshot=snap, since=since))


class AckSerializer(serializers.Serializer):
    sha256 = serializers.RegexField(r"^[0-9a-f]{64}$", help_text="the removal manifest's sha256, as applied")


class RemovalAckView(ContentsView):
    @extend_schema(request=AckSerializer, summary="Acknowledge having applied the removal manifest",
                   responses={200: OpenApiResponse(description="{version, acknowledged_at}")})
    def post(self, request: Request, version: str) -> Response:
        snap = snapshot_for(request, version)
        ser = AckSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        ack = removal_acknowledge(user=request.user, snapshot=snap, digest=ser.validated_data["sha256"])
        return Response({"version": snap.version, "acknowledged_at": ack.acknowledged_at})


class SigningKeyView(APIView):
    permission_classes = [permissions.AllowAny]
    authentication_classes: list[Any] = []

    @extend_schema(summary="The public Ed25519 key that signs removal manifests", responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request) -> Response:
        public = signing.public_key_b64()
        return Response({"algorithm": "Ed25519", "public_key": public, "key_id": signing.key_id(public)})
