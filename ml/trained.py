"""Models trained on the workbench and installed as reference models: found by their manifests
(``<weights dir>/workbench/<id>/manifest.json``), which ``ml.registry`` reads each time it is
listed. Reading the manifests needs no PyTorch; the model is built (and torch imported) only
when the registry creates it, so a pipeline worker that lists detectors stays light."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ml.weights import user_weights_dir


def installed_dir() -> Path:
    return user_weights_dir() / "workbench"


def manifests() -> list[dict[str, Any]]:
    root = installed_dir()
    out = []
    if root.is_dir():
        for m in sorted(root.glob("*/manifest.json")):
            try:
                out.append({**json.loads(m.read_text()), "path": str(m.parent)})
            except (OSError, ValueError):
                continue  # a half-removed folder is not a model
    return out
