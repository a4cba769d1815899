"""The platform's Ed25519 key and the signed removal manifests.

The key is generated on first use and kept in the private storage (``releases/keys/``, never
served; on a file system with mode 0600). Researchers get the public key from the dataset page
or the API and check every removal manifest against it, so a list of files to delete cannot be
forged by whoever sits between them and the platform.

A removal manifest is canonical JSON (sorted keys, no spaces, UTF-8); the signature covers those
exact bytes, and its SHA-256 is what a researcher acknowledges.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.core.files.base import ContentFile

from facecommons.common.storage import private_storage
from facecommons.releases.models import Snapshot, SnapshotStatus, Withdrawal

KEY_NAME = "releases/keys/removals-ed25519.pem"
_cached: Ed25519PrivateKey | None = None


def _load_or_create() -> Ed25519PrivateKey:
    storage = private_storage()
    if not storage.exists(KEY_NAME):
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        saved = storage.save(KEY_NAME, ContentFile(pem))
        if saved != KEY_NAME:  # another process created it first: theirs is the key
            storage.delete(saved)
        else:
            try:
                os.chmod(storage.path(KEY_NAME), 0o600)
            except NotImplementedError:
                pass
    with storage.open(KEY_NAME, "rb") as fh:
        key = serialization.load_pem_private_key(fh.read(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{KEY_NAME} is not an Ed25519 key")
    return key


def signing_key() -> Ed25519PrivateKey:
    global _cached
    if _cached is None:
        _cached = _load_or_create()
    return _cached


def public_key_b64() -> str:
    raw = signing_key().public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def key_id(public_b64: str) -> str:
    return hashlib.sha256(base64.b64decode(public_b64)).hexdigest()[:16]


def canonical(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def removal_manifest(*, snapshot: Snapshot, since: Snapshot | None = None) -> dict[str, Any]:
    """Every file withdrawn from ``snapshot`` (or, with ``since``, from any published version from
    ``since`` up to ``snapshot``), signed: {"manifest": {...}, "signature", "public_key", "key_id", "sha256"}."""
    snaps = Snapshot.objects.filter(pk=snapshot.pk)
    if since is not None:
        snaps = Snapshot.objects.filter(status=SnapshotStatus.PUBLISHED, version__gte=since.version,
                                        version__lte=snapshot.version)
    files: dict[str, dict[str, Any]] = {}
    for wd in Withdrawal.objects.filter(snapshot__in=snaps).order_by("withdrawn_at", "id"):
        for path in wd.file_names:
            files.setdefault(path, {"path": path, "subject_id": wd.subject_id, "reason": wd.reason,
                                    "withdrawn_at": wd.withdrawn_at.isoformat()})
    doc = {"type": "facecommons-removal-manifest", "version": snapshot.version,
           "since": since.version if since else snapshot.version,
           "files": [files[p] for p in sorted(files)]}
    body = canonical(doc)
    public = public_key_b64()
    return {"manifest": doc, "sha256": hashlib.sha256(body).hexdigest(),
            "signature": base64.b64encode(signing_key().sign(body)).decode(), "public_key": public,
            "key_id": key_id(public), "algorithm": "Ed25519"}


def verify(signed: dict[str, Any], public_b64: str) -> bool:
    """True when ``signed["signature"]`` is the key's signature of the canonical manifest."""
    try:
        key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_b64))
        key.verify(base64.b64decode(signed["signature"]), canonical(signed["manifest"]))
    except (InvalidSignature, ValueError, KeyError, TypeError):
        return False
    return True
