"""Serving snapshot bytes of every kind, with HTTP Range, ETag, and a log row per request.

The whole archive, metadata-only archives and filtered subsets are tars streamed from the stored
files (``archive.tarstream``): nothing is duplicated on disk, and the layout is a pure function
of the listed files, so a Range request seeks straight to its member. Single files are blobs.

In production a single stored file (a blob, or a pre-manifest archive) can be handed to the web
server (``SENDFILE_X_ACCEL``: nginx maps the prefix with ``internal;`` to the storage folder) or to
the object store (``RELEASES_STORAGE_REDIRECT``: 302 to a short-lived presigned URL). Either way
the request is logged with the range asked for.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.utils import timezone
from django.utils.http import quote_etag

from facecommons.common.audit import audit_record
from facecommons.common.storage import private_storage
from facecommons.common.tunables import tunables
from facecommons.releases import contents
from facecommons.releases.archive import tarstream
from facecommons.releases.archive.manifest import Entry
from facecommons.releases.archive.store import BlobStore, blob_key
from facecommons.releases.models import Download, DownloadKind, ResearcherToken, Snapshot

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
    if tunables.RELEASES_TRUST_X_FORWARDED_FOR:
        fwd = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if fwd:
            return fwd.split(",")[0].strip() or None
    return request.META.get("REMOTE_ADDR") or None


def download_log(request: HttpRequest, snap: Snapshot, *, user: Any, token: Any, kind: str, detail: str = "",
                 range_header: str = "", status: int = 200, length: int = 0, served_by: str = "django") -> Download:
    """The log row and audit event every download writes, whatever its kind."""
    log = Download.objects.create(user=user, user_label=getattr(user, "email", ""), snapshot=snap,
                                  token=token if isinstance(token, ResearcherToken) else None,
                                  address=client_address(request), range_header=range_header[:100], kind=kind,
                                  detail=detail[:300], status_code=status, bytes_requested=length,
                                  served_by=served_by)
    audit_record(actor=user, action="snapshot_downloaded", obj=snap,
                 after={"download": log.pk, "kind": kind, "detail": detail[:300], "range": range_header[:100],
                        "bytes": length})
    return log


def _counted(chunks: Iterable[bytes], log_id: int) -> Iterator[bytes]:
    sent = 0
    try:
        for block in chunks:
            sent += len(block)
            yield block
    finally:
        # Bytes actually handed to the server, also when the client went away mid-way.
        Download.objects.filter(pk=log_id).update(bytes_sent=sent, finished_at=timezone.now())


def _read_range(open_file: Callable[[], IO[bytes]], first: int, length: int) -> Iterator[bytes]:
    with open_file() as fh:
        fh.seek(first)
        left = length
        while left > 0:
            block = fh.read(min(CHUNK, left))
            if not block:
                break
            left -= len(block)
            yield block


def serve_ranged(request: HttpRequest, snap: Snapshot, *, user: Any, token: Any, kind: str, detail: str, size: int,
                 etag: str, content_type: str, filename: str,
                 body: Callable[[int, int], Iterable[bytes]], storage_key: str = "") -> HttpResponseBase:
    """Answer with ``body(first, last)`` (inclusive), honouring Range and If-Range, logged.

    ``storage_key``: the bytes are one stored file, which the web server or object store may send.
    """
    tag = quote_etag(etag)
    range_header = request.META.get("HTTP_RANGE", "")
    if_range = request.META.get("HTTP_IF_RANGE", "")
    if if_range and if_range.strip() not in (tag, etag):
        range_header = ""  # the client's partial copy is of other bytes: send everything
    try:
        rng = parse_range(range_header, size)
    except RangeNotSatisfiable:
        download_log(request, snap, user=user, token=token, kind=kind, detail=detail, range_header=range_header,
                     status=416)
        refused = HttpResponse(status=416)
        refused["Content-Range"] = f"bytes */{size}"
        refused["Accept-Ranges"] = "bytes"
        return refused
    first, last = rng if rng else (0, size - 1)
    length = max(0, last - first + 1)
    status = 206 if rng else 200
    accel = tunables.SENDFILE_X_ACCEL
    if storage_key and accel:
        download_log(request, snap, user=user, token=token, kind=kind, detail=detail, range_header=range_header,
                     status=status, length=length, served_by="x-accel")
        accel_resp = HttpResponse(status=200)
        accel_resp["X-Accel-Redirect"] = accel.rstrip("/") + "/" + storage_key
        accel_resp["Content-Type"] = content_type
        accel_resp["Content-Disposition"] = f'attachment; filename="{filename}"'
        accel_resp["ETag"] = tag
        accel_resp["Accept-Ranges"] = "bytes"
        return accel_resp
    if storage_key and tunables.RELEASES_STORAGE_REDIRECT:
        download_log(request, snap, user=user, token=token, kind=kind, detail=detail, range_header=range_header,
                     status=302, length=length, served_by="storage-url")
        return HttpResponseRedirect(private_storage().url(storage_key))
    log = download_log(request, snap, user=user, token=token, kind=kind, detail=detail, range_header=range_header,
                       status=status, length=length)
    chunks = body(first, last) if length else iter(())
    resp = StreamingHttpResponse(_counted(chunks, log.pk), status=status, content_type=content_type)
    resp["Content-Length"] = str(length)
    resp["Accept-Ranges"] = "bytes"
    resp["ETag"] = tag
    resp["Content-Disposition"] = f'attachment; filename="{filename}"'
    resp["Cache-Control"] = "private, no-transform"
    if rng:
        resp["Content-Range"] = f"bytes {first}-{last}/{size}"
    return resp


# --- what is served -------------------------------------------------------------------------------

def serve_tar(request: HttpRequest, snap: Snapshot, *, user: Any, token: Any, kind: str, detail: str,
              entries: Callable[[], Iterable[Entry]], etag: str, filename: str,
              extra: dict[str, Callable[[], Any]] | None = None) -> HttpResponseBase:
    """A tar of ``entries`` (sorted by path) streamed from the store; ``extra`` opens files that
    are not blobs (a subset's filtered metadata), by path."""
    store = BlobStore()
    extra = extra or {}
    mtime = int(snap.cutoff_at.timestamp())

    def open_file(e: Entry) -> IO[bytes]:
        return extra[e.path]() if e.path in extra else store.open(e.sha256)

    size = tarstream.archive_size(entries())
    return serve_ranged(request, snap, user=user, token=token, kind=kind, detail=detail, size=size, etag=etag,
                        content_type="application/x-tar", filename=filename,
                        body=lambda a, b: tarstream.stream(entries(), open_file, mtime=mtime, first=a, last=b))


def serve_blob(request: HttpRequest, snap: Snapshot, *, user: Any, token: Any, entry: Entry) -> HttpResponseBase:
    store = BlobStore()
    name = entry.path.rsplit("/", 1)[-1]
    ctype = "image/jpeg" if name.endswith(".jpg") else "application/octet-stream"
    return serve_ranged(request, snap, user=user, token=token, kind=DownloadKind.FILE, detail=entry.path,
                        size=entry.size, etag=entry.sha256, content_type=ctype, filename=name,
                        storage_key=blob_key(entry.sha256),
                        body=lambda a, b: _read_range(lambda: store.open(entry.sha256), a, b - a + 1))


def serve_legacy_archive(request: HttpRequest, snap: Snapshot, *, user: Any, token: Any) -> HttpResponseBase:
    """A snapshot built before manifests: its stored tar."""
    storage = private_storage()
    return serve_ranged(request, snap, user=user, token=token, kind=DownloadKind.ARCHIVE, detail="",
                        size=snap.archive_size, etag=snap.archive_sha256, content_type="application/x-tar",
                        filename=snap.archive_name, storage_key=snap.archive_key,
                        body=lambda a, b: _read_range(lambda: storage.open(snap.archive_key, "rb"), a, b - a + 1))


def serve_snapshot(request: HttpRequest, snap: Snapshot, *, user: Any, token: Any = None) -> HttpResponseBase:
    """The whole archive: streamed from the stored files, less what was withdrawn since."""
    if not snap.manifest_sha256:
        return serve_legacy_archive(request, snap, user=user, token=token)

    return serve_tar(request, snap, user=user, token=token, kind=DownloadKind.ARCHIVE, detail="",
                     entries=lambda: contents.served_entries(snap),
                     etag=f"{snap.manifest_sha256}.{snap.withdrawals_count}", filename=snap.archive_name)
