"""Each test gets its own private storage directory, so "no file left" checks are exact."""

from __future__ import annotations

import copy
import os

import pytest


@pytest.fixture(autouse=True)
def private_media(settings, tmp_path):
    """A fresh, empty private storage for this test; returns its root."""
    root = tmp_path / "media"
    root.mkdir()
    storages = copy.deepcopy(settings.STORAGES)
    for alias in ("default", "private"):
        if storages[alias]["BACKEND"] == "django.core.files.storage.FileSystemStorage":
            storages[alias]["OPTIONS"]["location"] = str(root)
    settings.STORAGES = storages
    settings.MEDIA_ROOT = str(root)
    return root


def list_storage(root) -> list[str]:
    out = []
    for dirpath, _dirs, files in os.walk(root):
        out += [os.path.relpath(os.path.join(dirpath, f), root) for f in files]
    return sorted(out)
