"""Models trained on the workbench and installed as reference models: found by their manifests
(``<weights dir>/workbench/<id>/manifest.json``) and put into the detector and verifier
registries. Reading the manifests needs no PyTorch; the model is built (and torch imported) only
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


def _factory(kind: str, manifest: dict[str, Any]) -> Any:
    def make(**kwargs: Any) -> Any:
        from ml.workbench import registry

        cls = registry.TrainedFaceDetector if kind == "detection" else registry.TrainedVerifier
        return cls(manifest, **kwargs)

    make._workbench = True  # type: ignore[attr-defined]
    return make


def register_installed() -> None:
    """Put every installed model into the detector or verifier registry (called by their listing)."""
    from ml.detectors.base import _REGISTRY as DETECTORS
    from ml.verifiers.base import _REGISTRY as VERIFIERS

    found = manifests()
    for m in found:
        kind = m.get("task")
        reg = DETECTORS if kind == "detection" else VERIFIERS if kind == "verification" else None
        if reg is None:
            continue
        if m["id"] in reg and not getattr(reg[m["id"]], "_workbench", False):
            continue  # never shadow a built-in model
        reg[m["id"]] = _factory(str(kind), m)
    # A model uninstalled since the last listing leaves the registries too.
    ids = {m["id"] for m in found}
    for reg in (DETECTORS, VERIFIERS):
        for name in [n for n, f in reg.items() if getattr(f, "_workbench", False) and n not in ids]:
            del reg[name]
