"""Each test gets its own private storage directory, so "no file left" checks are exact."""

from __future__ import annotations

import os

import pytest


@pytest.fixture(autouse=True)
def private_media(fresh_storage):
    """A fresh, empty private storage for this test; returns its root."""
    return fresh_storage


def list_storage(root) -> list[str]:
    out = []
    for dirpath, _dirs, files in os.walk(root):
        out += [os.path.relpath(os.path.join(dirpath, f), root) for f in files]
    return sorted(out)
