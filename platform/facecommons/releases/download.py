"""Serving a snapshot archive: HTTP Range, ETag, and a log row per request.

In development Django streams the file from storage. In production set either
``SENDFILE_X_ACCEL`` (a URL prefix that nginx maps with ``internal;`` to the storage folder:
Django checks permission and logs, nginx sends the bytes and handles Range) or
``RELEASES_STORAGE_REDIRECT`` (S3: answer 302 to a short-lived presigned URL; the object store
handles Range). Either way the request is logged with the range asked for.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.utils import timezone
from django.utils.http import quote_etag

from facecommons.common.audit import audit_record
from facecommons.common.conf import setting
from facecommons.common.storage import private_storage
from facecommons.releases.models import Download, ResearcherToken, Snapshot

CHUNK = 1 << 20
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


class RangeNotSatisfiable(Exception):
    pass


def parse_range(header: str, size: int) -> tuple[int, int] | None:
    """(first, last) inclusive for a single ``bytes=`` range; None for no/ignorable header.

    Multi-range requests are answered with the whole file (allowed by RFC 9110).
    """
    header = (header or "").strip()
    if not header:
        return None
    m = _RANGE.match(header.replace(" ", ""))
    if not m:
        return None  # malformed or multi-range: ignore, send everything
    a, b = m.groups()
    if a == "" and b == "":
        return None
    if a == "":  # suffix: the last b bytes
        n = int(b)
        if n == 0 or size == 0:
            raise RangeNotSatisfiable
        return max(0, size - n), size - 1
    first = int(a)
    last = int(b) if b else size - 1
    if first >= size or last < first:
        raise RangeNotSatisfiable
    return first, min(last, size - 1)


def client_address(request: HttpRequest) -> str | None:
    # Behind a proxy set RELEASES_TRUST_X_FORWARDED_FOR so the log holds the real client.
    if setting("RELEASES_TRUST_X_FORWARDED_FOR", False):
        fwd = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if fwd:
            return fwd.split(",")[0].strip() or None
    return request.META.get("REMOTE_ADDR") or None


def _stream(key: str, first: int, length: int, log_id: int) -> Iterator[bytes]:
    sent = 0
    try:
        with private_storage().open(key, "rb") as fh:
            fh.seek(first)
            while sent < length:
                block = fh.read(min(CHUNK, length - sent))
                if not block:
                    break
                sent += len(block)
                yield block
    finally:
        # Bytes actually handed to the server, also when the client went away mid-way.
        Download.objects.filter(pk=log_id).update(bytes_sent=sent, finished_at=timezone.now())


def serve_snapshot(request: HttpRequest, snap: Snapshot, *, user: Any, token: Any = None) -> HttpResponse:
    size = snap.archive_size
    etag = quote_etag(snap.archive_sha256)
    range_header = request.META.get("HTTP_RANGE", "")
    # If-Range: resume only if the client's copy is of this very archive (it always is: immutable).
    if_range = request.META.get("HTTP_IF_RANGE", "")
    if if_range and if_range.strip() not in (etag, snap.archive_sha256):
        range_header = ""
    log = Download.objects.create(user=user, user_label=getattr(user, "email", ""), snapshot=snap,
                                  token=token if isinstance(token, ResearcherToken) else None,
                                  address=client_address(request), range_header=range_header[:100])
    try:
        rng = parse_range(range_header, size)
    except RangeNotSatisfiable:
        Download.objects.filter(pk=log.pk).update(status_code=416, finished_at=timezone.now())
        resp = HttpResponse(status=416)
        resp["Content-Range"] = f"bytes */{size}"
        resp["Accept-Ranges"] = "bytes"
        return resp
    first, last = rng if rng else (0, size - 1)
    length = max(0, last - first + 1)
    status = 206 if rng else 200
    audit_record(actor=user, action="snapshot_downloaded", obj=snap,
                 after={"download": log.pk, "range": range_header[:100], "bytes": length})

    accel = setting("SENDFILE_X_ACCEL", "")
    if accel:
        Download.objects.filter(pk=log.pk).update(status_code=status, bytes_requested=length, served_by="x-accel")
        resp = HttpResponse(status=200)
        resp["X-Accel-Redirect"] = accel.rstrip("/") + "/" + snap.archive_key
        resp["Content-Type"] = "application/x-tar"
        resp["Content-Disposition"] = f'attachment; filename="{snap.archive_name}"'
        resp["ETag"] = etag
        resp["Accept-Ranges"] = "bytes"
        return resp
    if setting("RELEASES_STORAGE_REDIRECT", False):
        Download.objects.filter(pk=log.pk).update(status_code=302, bytes_requested=length, served_by="storage-url")
        return HttpResponseRedirect(private_storage().url(snap.archive_key))

    Download.objects.filter(pk=log.pk).update(status_code=status, bytes_requested=length)
    resp = StreamingHttpResponse(_stream(snap.archive_key, first, length, log.pk), status=status,  # type: ignore[assignment]
                                 content_type="application/x-tar")
    resp["Content-Length"] = str(length)
    resp["Accept-Ranges"] = "bytes"
    resp["ETag"] = etag
    resp["Content-Disposition"] = f'attachment; filename="{snap.archive_name}"'
    resp["Cache-Control"] = "private, no-transform"
    if rng:
        resp["Content-Range"] = f"bytes {first}-{last}/{size}"
    return resp
