"""A small HTTP client over urllib: bearer token, JSON, resumable downloads with Range."""

from __future__ import annotations

import hashlib
import json
import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import Any

CHUNK = 1 << 20


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"HTTP {status}: {message}")
        self.status = status


class Api:
    def __init__(self, url: str, token: str, *, timeout: float = 60.0) -> None:
        if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
            raise ValueError(f"the site must be an http(s) URL, not {url!r}")
        self.base = url.rstrip("/") + "/api/v1/"
        self.token = token
        self.timeout = timeout

    def _request(self, path: str, *, headers: dict[str, str] | None = None, data: bytes | None = None,
                 method: str | None = None) -> Any:
        req = urllib.request.Request(urllib.parse.urljoin(self.base, path), data=data, method=method,  # noqa: S310
                                     headers={"Authorization": f"Bearer {self.token}", "Accept": "application/json",
                                              **(headers or {})})
        try:
            return urllib.request.urlopen(req, timeout=self.timeout)  # noqa: S310 - http(s) only, checked in __init__
        except urllib.error.HTTPError as exc:
            body = exc.read().decode(errors="replace")
            try:
                message = json.loads(body)["error"]["message"]
            except (ValueError, KeyError, TypeError):
                message = body[:200] or exc.reason
            raise ApiError(exc.code, message) from None

    def get_json(self, path: str) -> Any:
        with self._request(path) as resp:
            return json.load(resp)

    def post_json(self, path: str, payload: dict[str, Any]) -> Any:
        with self._request(path, data=json.dumps(payload).encode(), method="POST",
                           headers={"Content-Type": "application/json"}) as resp:
            return json.load(resp)

    def download(self, path: str, dest: str, *, sha256: str, size: int,
                 progress: Callable[[int], None] | None = None) -> None:
        """Download to ``dest`` through ``dest.part`` (resumed with Range if it exists), check the
        SHA-256, then rename. Raises ValueError when the bytes do not match."""
        part = dest + ".part"
        have = os.path.getsize(part) if os.path.exists(part) else 0
        if have > size:
            os.unlink(part)
            have = 0
        headers = {"Range": f"bytes={have}-", "If-Range": f'"{sha256}"'} if have else {}
        if have < size or size == 0:
            with self._request(path, headers=headers) as resp:
                mode = "ab" if resp.status == 206 else "wb"  # 200: the server sent everything
                with open(part, mode) as out:
                    for block in iter(lambda: resp.read(CHUNK), b""):
                        out.write(block)
                        if progress:
                            progress(len(block))
        h = hashlib.sha256()
        with open(part, "rb") as fh:
            for block in iter(lambda: fh.read(CHUNK), b""):
                h.update(block)
        if h.hexdigest() != sha256:
            os.unlink(part)
            raise ValueError(f"{path}: checksum mismatch (got {h.hexdigest()}, expected {sha256})")
        os.replace(part, dest)


def file_sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(CHUNK), b""):
            h.update(block)
    return h.hexdigest()
