"""Checking the platform's Ed25519 signature on a removal manifest (canonical JSON)."""

from __future__ import annotations

import base64
import json
from typing import Any


def canonical(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def verify(signed: dict[str, Any], public_key_b64: str) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key_b64))
        key.verify(base64.b64decode(signed["signature"]), canonical(signed["manifest"]))
    except (InvalidSignature, ValueError, KeyError, TypeError):
        return False
    return True
