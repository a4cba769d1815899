"""SHA-256 of a stream, computed on a second thread, with a state that can be saved and resumed.

``hashlib`` cannot export its internal state, so a snapshot that starts with the bytes of the
previous one would have to read them all again to hash them. OpenSSL's ``SHA256_CTX`` (the
long-stable low-level API, still exported by libcrypto 3) can: after the image section of a
snapshot the 112-byte context is saved with it, and the next snapshot copies that section
(kernel-side ``copy_file_range``) and resumes hashing from the saved context. Where libcrypto
cannot be loaded, ``hashlib`` is used and nothing is resumed (correct, only slower).

The digest runs on a worker thread fed through a bounded queue (ctypes and hashlib release the
GIL), so hashing overlaps with reading and writing; memory is bounded by the queue.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import hashlib
import queue
import threading
from typing import Any


class _Ctx(ctypes.Structure):
    _fields_ = [("h", ctypes.c_uint32 * 8), ("Nl", ctypes.c_uint32), ("Nh", ctypes.c_uint32),
                ("data", ctypes.c_uint32 * 16), ("num", ctypes.c_uint32), ("md_len", ctypes.c_uint32)]


def _load() -> Any | None:
    name = ctypes.util.find_library("crypto")
    if not name:
        return None
    try:
        lib = ctypes.CDLL(name)
        for fn in ("SHA256_Init", "SHA256_Update", "SHA256_Final"):
            getattr(lib, fn)
    except (OSError, AttributeError):
        return None
    lib.SHA256_Init.argtypes = [ctypes.POINTER(_Ctx)]
    lib.SHA256_Update.argtypes = [ctypes.POINTER(_Ctx), ctypes.c_char_p, ctypes.c_size_t]
    lib.SHA256_Final.argtypes = [ctypes.c_char_p, ctypes.POINTER(_Ctx)]
    # Self-test against hashlib: a libcrypto whose context differs must not be trusted.
    ctx = _Ctx()
    lib.SHA256_Init(ctypes.byref(ctx))
    lib.SHA256_Update(ctypes.byref(ctx), b"abc" * 100, 300)
    out = ctypes.create_string_buffer(32)
    lib.SHA256_Final(out, ctypes.byref(ctx))
    if out.raw != hashlib.sha256(b"abc" * 100).digest() or ctypes.sizeof(_Ctx) != 112:
        return None
    return lib


_LIB = _load()
STATE_SIZE = ctypes.sizeof(_Ctx)


def resumable() -> bool:
    return _LIB is not None


class _Digest:
    """Either an OpenSSL context (resumable) or hashlib (not)."""

    def __init__(self, state: bytes | None = None, length: int = 0) -> None:
        self.ctx: _Ctx | None = None
        self.h: Any = None
        if _LIB is not None:
            if state:
                ctx = _Ctx.from_buffer_copy(state)
                if (ctx.Nh << 32 | ctx.Nl) != length * 8:
                    raise ValueError("saved SHA-256 state does not match the prefix length")
                self.ctx = ctx
            else:
                self.ctx = _Ctx()
                _LIB.SHA256_Init(ctypes.byref(self.ctx))
        else:
            if state:
                raise ValueError("cannot resume a SHA-256 state without libcrypto")
            self.h = hashlib.sha256()

    def update(self, b: bytes) -> None:
        if self.ctx is not None:
            assert _LIB is not None  # a context exists only when libcrypto loaded
            _LIB.SHA256_Update(ctypes.byref(self.ctx), b, len(b))
        else:
            self.h.update(b)

    def state(self) -> bytes:
        return ctypes.string_at(ctypes.addressof(self.ctx), STATE_SIZE) if self.ctx is not None else b""

    def hexdigest(self) -> str:
        if self.ctx is None:
            return str(self.h.hexdigest())
        copy = _Ctx.from_buffer_copy(self.state())
        out = ctypes.create_string_buffer(32)
        assert _LIB is not None  # a context exists only when libcrypto loaded
        _LIB.SHA256_Final(out, ctypes.byref(copy))
        return out.raw.hex()


class ThreadedSha256:
    """``update`` queues the bytes; a worker thread hashes them. ``state``/``hexdigest`` wait
    for the queue to drain first."""

    _STOP = object()
    BATCH = 1 << 20

    def __init__(self, state: bytes | None = None, length: int = 0, depth: int = 8) -> None:
        self.digest = _Digest(state, length)
        self.q: queue.Queue[Any] = queue.Queue(maxsize=depth)
        self.pending = bytearray()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="sha256", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while True:
            item = self.q.get()
            try:
                if item is self._STOP:
                    return
                if self.error is None:
                    self.digest.update(item)
            except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
                self.error = exc
            finally:
                self.q.task_done()

    def update(self, b: Any) -> None:
        # Small writes (tar headers, padding) are gathered into ~1 MiB pieces: one hand-over to
        # the thread per piece, not per write (a hand-over costs more than hashing 10 KB).
        if len(b) >= self.BATCH and not self.pending:
            self.q.put(b if isinstance(b, bytes) else bytes(b))
            return
        self.pending += b
        if len(self.pending) >= self.BATCH:
            self._flush()

    def _flush(self) -> None:
        if self.pending:
            self.q.put(bytes(self.pending))
            self.pending = bytearray()

    def _drain(self) -> None:
        self._flush()
        self.q.join()
        if self.error is not None:
            raise self.error

    def state(self) -> bytes:
        self._drain()
        return self.digest.state()

    def hexdigest(self) -> str:
        self._drain()
        return self.digest.hexdigest()

    def close(self) -> None:
        self.q.put(self._STOP)
        self.thread.join()
