"""Private file storage: no public URLs, atomic writes, real deletion."""

from __future__ import annotations

from django.core.files.base import ContentFile
from django.core.files.storage import Storage, storages


def private_storage() -> Storage:
    return storages["private"]


def storage_save_bytes(key: str, data: bytes) -> str:
    """Save ``data`` under exactly ``key`` (content-addressed keys make a rewrite a no-op)."""
    storage = private_storage()
    if storage.exists(key):
        return key
    saved = storage.save(key, ContentFile(data))
    if saved != key:  # another writer won the race and the storage renamed ours: drop it
        storage.delete(saved)
    return key


def storage_delete(*keys: str) -> None:
    storage = private_storage()
    for key in keys:
        if key and storage.exists(key):
            storage.delete(key)
