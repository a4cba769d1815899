"""Running the reference models over a run's photos, through the results cache.

One decode per photo for all models: the photo is read from storage and decoded once (long
side ≤ ``DECODE_SIDE``, Pillow's DCT-scaled ``draft()``), then every detector and verifier
that still lacks a result for it runs on the same array. Results are stored in the
coordinates of the full-resolution image, so they do not depend on the decode size.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from facecommons.common.storage import private_storage
from ml import registry
from ml.detectors import Detection
from ml.imageio import decode

logger = logging.getLogger(__name__)

# The detectors resize to ≤ 1024 px themselves (FINDINGS: RetinaFace is as accurate there as
# at 12 MP and ~20x cheaper); decoding at that size saves the full-resolution decode.
DECODE_SIDE = 1024
# The face used for embeddings when a photo has no validated face (external sources): the
# largest confident detection of this detector, so embeddings never depend on which
# detectors a run happened to include.
FACE_DETECTOR = "retinaface-mobilenet"
MIN_SCORE = 0.9  # the pipeline's bar for "a face" (RetinaFace probability; dlib margins map to ≥ 0.9)


@dataclass(frozen=True)
class ModelSpec:
    id: str
    version: str
    task: str  # detection | verification
    license: str = ""
    weights_source: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"id": self.id, "version": self.version, "task": self.task, "license": self.license,
                "weights_source": self.weights_source}


KIND = {"detection": "detector", "verification": "verifier"}


def get_model(model_id: str, task: str) -> Any:
    """The process's instance of a model (``ml.registry``'s cache: loading costs more than a photo)."""
    return registry.get_model(model_id, KIND[task])  # type: ignore[arg-type]


def resolve_models(names: Sequence[str] | None) -> tuple[list[ModelSpec], list[dict[str, str]]]:
    """The specs of the named models (all registered detectors and verifiers when ``names`` is
    empty), from the registry's metadata: no model is built here.

    Returns (available specs, [{id, message}] for those that cannot load here). Raises
    ``KeyError`` for a name that is neither a detector nor a verifier."""
    detectors, verifiers = registry.list_models("detector"), registry.list_models("verifier")
    wanted = list(names) if names else [*detectors, *verifiers]
    specs: list[ModelSpec] = []
    unavailable: list[dict[str, str]] = []
    for name in wanted:
        if name in detectors:
            task = "detection"
        elif name in verifiers:
            task = "verification"
        else:
            raise KeyError(f"Unknown model {name!r}. Detectors: {', '.join(detectors)}; "
                           f"verifiers: {', '.join(verifiers)}.")
        info = registry.model_info(name)
        reason = info.unavailable()
        if reason:
            unavailable.append({"id": name, "message": reason})
            continue
        specs.append(ModelSpec(name, info.version, task, info.licence, info.weights_source))
    return specs, unavailable


def _face_detection(face: dict[str, Any] | None) -> Detection | None:
    if not face or "box" not in face:
        return None
    lm = tuple((float(x), float(y)) for x, y in face.get("landmarks") or [])
    return Detection(box=tuple(float(v) for v in face["box"]), score=float(face.get("score", 1.0)),  # type: ignore[arg-type]
                     landmarks=lm)


def largest_confident(detections: Iterable[dict[str, Any]], min_score: float = MIN_SCORE) -> dict[str, Any] | None:
    conf = [d for d in detections if float(d.get("score", 0)) >= min_score]
    if not conf:
        return None
    return max(conf, key=lambda d: (d["box"][2] - d["box"][0]) * (d["box"][3] - d["box"][1]))


@dataclass
class Job:
    """What one photo (or its enhanced copy) still needs: the cache misses."""

    sha256: str
    key: str
    variant: str
    detectors: list[ModelSpec]
    verifiers: list[ModelSpec]
    face: dict[str, Any] | None  # validated face in full-resolution coordinates


def run_job(job: Job, *, face_hint: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """Decode the image once and run every model the job lists. Returns ModelResult field dicts.

    ``face_hint``: the FACE_DETECTOR's cached detections of this image, used for embeddings when
    there is no validated face. Raises OSError when the file is unreadable."""
    with private_storage().open(job.key, "rb") as fh:
        data = fh.read()
    dec = decode(data, max_side=DECODE_SIDE, min_side=int(DECODE_SIDE * 0.75))
    s = dec.scale
    out: list[dict[str, Any]] = []
    own: dict[str, list[dict[str, Any]]] = {}
    for spec in job.detectors:
        dets = get_model(spec.id, "detection").detect(dec.rgb)
        as_dicts = [(d.scaled(1 / s) if s != 1 else d).as_dict() for d in dets]
        own[spec.id] = as_dicts
        out.append({"content_sha256": job.sha256, "model_id": spec.id, "model_version": spec.version,
                    "variant": job.variant, "task": "detection",
                    "result": {"detections": as_dicts, "width": dec.full_size[0], "height": dec.full_size[1]}})
    if job.verifiers:
        face = job.face
        face_from = "validated"
        if face is None:
            dets = own.get(FACE_DETECTOR, face_hint)
            if dets is None:
                d_obj = get_model(FACE_DETECTOR, "detection").detect(dec.rgb)
                dets = [(d.scaled(1 / s) if s != 1 else d).as_dict() for d in d_obj]
            face = largest_confident(dets)
            face_from = FACE_DETECTOR
        for spec in job.verifiers:
            row: dict[str, Any] = {"content_sha256": job.sha256, "model_id": spec.id, "model_version": spec.version,
                                   "variant": job.variant, "task": "embedding", "embedding": None}
            det = _face_detection(face)
            if det is None:
                row["result"] = {"ok": False, "reason": "no_face", "face_from": face_from}
            else:
                emb = get_model(spec.id, "verification").embed(dec.rgb, det.scaled(s) if s != 1 else det)
                row["embedding"] = np.asarray(emb, dtype=np.float32).tobytes()
                row["result"] = {"ok": True, "face_from": face_from, "dim": int(np.asarray(emb).size)}
            out.append(row)
    return out
