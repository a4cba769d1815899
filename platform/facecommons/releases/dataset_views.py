"""The dataset page of a version (/datasets/<version>/): public for published versions; row
previews and thumbnails only for approved researchers with the current agreement."""

from __future__ import annotations

import io

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET
from PIL import Image

from facecommons.releases import dataset_page, services
from facecommons.releases.archive.store import BlobStore
from facecommons.releases.download import download_log
from facecommons.releases.models import Blob, DownloadKind, Snapshot, SnapshotEntry, SnapshotStatus

THUMB = 128


def _published(version: str) -> Snapshot:
    snap = get_object_or_404(Snapshot, version=version, status=SnapshotStatus.PUBLISHED)
    if not snap.manifest_sha256:
        raise Http404("This snapshot predates dataset pages.")
    return snap


@require_GET
def dataset_latest(request: HttpRequest) -> HttpResponse:
    snap = (Snapshot.objects.filter(status=SnapshotStatus.PUBLISHED).exclude(manifest_sha256="")
            .order_by("-published_at", "-id").first())
    if snap is None:
        raise Http404(_("No snapshot has been published yet."))
    return redirect("dataset", version=snap.version)


@require_GET
def dataset(request: HttpRequest, version: str) -> HttpResponse:
    snap = _published(version)
    may, _why = services.researcher_can_download(request.user)
    return render(request, "releases/dataset.html", dataset_page.page_context(snap, may_download=may))


@require_GET
def dataset_citation(request: HttpRequest, version: str, fmt: str) -> HttpResponse:
    snap = _published(version)
    cite = dataset_page.citation(snap)
    body, name = (cite["bibtex"], f"facecommons-{snap.version}.bib") if fmt == "bib" else (cite["cff"], "CITATION.cff")
    resp = HttpResponse(body, content_type="text/plain; charset=utf-8")
    resp["Content-Disposition"] = f'attachment; filename="{name}"'
    return resp


@require_GET
def dataset_thumbnail(request: HttpRequest, version: str, sha256: str) -> HttpResponse:
    """A small thumbnail of a photo in the version: approved researchers only, logged."""
    snap = _published(version)
    ok, why = services.researcher_can_download(request.user)
    if not ok:
        return HttpResponseForbidden(why)
    entry = SnapshotEntry.objects.filter(snapshot=snap, sha256=sha256).first()
    blob = Blob.objects.filter(sha256=sha256, withdrawn_at__isnull=True).first()
    if entry is None or blob is None:
        raise Http404(_("No such photo in this version."))
    with BlobStore().open(sha256) as fh, Image.open(fh) as img:
        img.thumbnail((THUMB, THUMB))
        out = io.BytesIO()
        img.convert("RGB").save(out, "JPEG", quality=80)
    download_log(request, snap, user=request.user, token=None, kind=DownloadKind.FILE,
                 detail=f"thumbnail {entry.file_name}", length=out.tell())
    resp = HttpResponse(out.getvalue(), content_type="image/jpeg")
    resp["Cache-Control"] = "private, max-age=3600"
    return resp
