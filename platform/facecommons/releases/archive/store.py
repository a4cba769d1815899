"""The content-addressed file store: every file of every snapshot stored once, by SHA-256.

A version lists files; it does not hold them. A photo in ten versions is one blob. Images and
crops come from the contributions' own storage, which is content-addressed already: where the
store and the photos share a file system the blob is a hard link (no byte moves, and a later
rewrite of the photo's storage cannot change a published version), else the bytes are copied
through a 1 MiB buffer and checked against their SHA-256 on the way. Writes are atomic (a
temporary name, then a rename), so a crash never leaves a half-written blob.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
import threading
import uuid
from collections.abc import Iterable
from typing import IO, Any

from django.core.files import File

from facecommons.common.storage import private_storage
from facecommons.common.tunables import tunables
from facecommons.releases.models import Blob

BLOB_ROOT = "releases/blobs"
COPY_BUFFER = 1 << 20


class BlobMismatch(OSError):
    """The bytes found do not have the SHA-256 they are filed under."""


def blob_key(sha256: str) -> str:
    return f"{BLOB_ROOT}/{sha256[:2]}/{sha256}"


def _local_root(storage: Any) -> str | None:
    """The folder of a file-system storage (None for object storage). Keys here come from the
    database and from ``blob_key``, never from a request, so joining them to it is safe; it
    spares ``storage.path``'s per-call checks, a tenth of a build's time."""
    try:
        return os.path.realpath(str(storage.path("")))
    except NotImplementedError:
        return None


class BlobStore:
    """Puts and opens blobs. ``stored_bytes`` counts the bytes this instance added."""

    def __init__(self) -> None:
        self.storage = private_storage()
        self.link = tunables.RELEASES_BLOB_LINK
        self.stored_bytes = 0
        self.stored_files = 0
        self.root = _local_root(self.storage)
        self._lock = threading.Lock()
        self._folders: set[str] = set()  # folders known to exist (one makedirs each, not one per file)

    def _folder_for(self, dest: str) -> None:
        folder = os.path.dirname(dest)
        if folder not in self._folders:
            os.makedirs(folder, mode=0o700, exist_ok=True)
            self._folders.add(folder)

    def _path(self, key: str) -> str | None:
        return os.path.join(self.root, key) if self.root else None

    def known(self, shas: Iterable[str]) -> set[str]:
        """The SHA-256s among ``shas`` that are stored (and not withdrawn)."""
        shas = list(shas)
        out: set[str] = set()
        for i in range(0, len(shas), 900):
            out.update(Blob.objects.filter(sha256__in=shas[i:i + 900], withdrawn_at__isnull=True)
                       .values_list("sha256", flat=True))
        return out

    def put_stored(self, *, source_key: str, sha256: str, size: int) -> None:
        """Store the file at ``source_key`` of the private storage as blob ``sha256``.

        Raises FileNotFoundError when the source is gone (deleted by a withdrawal meanwhile).
        """
        dest_key = blob_key(sha256)
        src, dest = self._path(source_key), self._path(dest_key)
        if src and dest:
            self._folder_for(dest)
            if self.link:
                try:
                    os.link(src, dest)
                except FileExistsError:
                    return
                except OSError as exc:  # another file system, or links not allowed: copy
                    if isinstance(exc, FileNotFoundError):
                        raise
                else:
                    self._count(size)
                    return
            with open(src, "rb") as fh:
                self._write_local(fh, dest, sha256)
            self._count(size)
            return
        with self.storage.open(source_key, "rb") as fh:
            self.put_file(fh, sha256=sha256)

    def put_file(self, fh: IO[bytes], *, sha256: str | None = None) -> tuple[str, int]:
        """Store a readable file; returns (sha256, size). ``sha256``, when given, is checked."""
        if sha256 is None:
            h = hashlib.sha256()
            for block in iter(lambda: fh.read(COPY_BUFFER), b""):
                h.update(block)
            sha256 = h.hexdigest()
            fh.seek(0)
        dest_key = blob_key(sha256)
        dest = self._path(dest_key)
        if dest:
            if os.path.exists(dest):
                return sha256, os.path.getsize(dest)
            self._folder_for(dest)
            size = self._write_local(fh, dest, sha256)
        else:
            if self.storage.exists(dest_key):
                return sha256, int(self.storage.size(dest_key))
            size = self._write_remote(fh, dest_key, sha256)
        self._count(size)
        return sha256, size

    def put_bytes(self, data: bytes) -> tuple[str, int]:
        return self.put_file(io.BytesIO(data))

    def _count(self, size: int) -> None:
        with self._lock:  # the build stores from several threads
            self.stored_bytes += size
            self.stored_files += 1

    @staticmethod
    def _write_local(fh: IO[bytes], dest: str, sha256: str) -> int:
        tmp = f"{dest}.part-{uuid.uuid4().hex}"
        h, size = hashlib.sha256(), 0
        try:
            with open(tmp, "wb") as out:
                for block in iter(lambda: fh.read(COPY_BUFFER), b""):
                    out.write(block)
                    h.update(block)
                    size += len(block)
            if h.hexdigest() != sha256:
                raise BlobMismatch(f"bytes filed as {sha256} hash to {h.hexdigest()}")
            os.chmod(tmp, 0o600)
            os.replace(tmp, dest)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return size

    def _write_remote(self, fh: IO[bytes], key: str, sha256: str) -> int:
        with tempfile.TemporaryFile() as spool:
            size = self._write_spool(fh, spool, sha256)
            spool.seek(0)
            saved = self.storage.save(key, File(spool))
        if saved != key:  # another build stored the same blob first: keep theirs
            self.storage.delete(saved)
        return size

    @staticmethod
    def _write_spool(fh: IO[bytes], spool: IO[bytes], sha256: str) -> int:
        h, size = hashlib.sha256(), 0
        for block in iter(lambda: fh.read(COPY_BUFFER), b""):
            spool.write(block)
            h.update(block)
            size += len(block)
        if h.hexdigest() != sha256:
            raise BlobMismatch(f"bytes filed as {sha256} hash to {h.hexdigest()}")
        return size

    def open(self, sha256: str) -> IO[bytes]:
        return self.storage.open(blob_key(sha256), "rb")  # type: ignore[no-any-return]

    def delete(self, sha256: str) -> None:
        key = blob_key(sha256)
        if self.storage.exists(key):
            self.storage.delete(key)
