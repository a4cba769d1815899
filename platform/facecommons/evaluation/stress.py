"""The low-light stress test that every evaluation runs beside the plain measurement.

Does enhancing dark photos close the detection gap for darker skin? Each evaluated photo is also
darkened at ``EVAL_LOWLIGHT_LEVELS`` with the physically based model of
``enhancement.degrade.darken`` (linear light scaled, shot and read noise, JPEG; the noise seeded
by the photo's hash and the level, so a copy is the same every time), and every detector runs
on the dark copy and on the platform's enhanced copy as the pipeline makes it (the configured
enhancer, then ``for_detection`` smoothing at the detector's size). The pipeline keeps faces
from either image, so "with enhancement" counts a face found on the dark copy or the enhanced
one (FINDINGS: smoothing erases small faces, so the enhanced copy alone would understate it).

Results go through the same cache as everything else (``ModelResult``), under variants
``d<level>[e]<tag>``: ``tag`` hashes the darkening parameters and the enhancer's id and version,
so changing either computes afresh instead of mixing old and new copies; a re-run after new
photos computes only theirs. The photo is darkened at the size the detectors see (long side ≤
``engine.DECODE_SIDE``), which is where the pipeline smooths too.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from typing import Any

import numpy as np

from enhancement.degrade import darken
from enhancement.detection import for_detection
from facecommons.common.storage import private_storage
from facecommons.common.tunables import tunables
from facecommons.evaluation import engine
from facecommons.pipeline.services import pipeline_enhancer, thresholds
from ml import metrics as M
from ml.imageio import decode
from ml.metrics.lowlight import lowlight_metrics

DARKEN = {"photons": 400.0, "read_sigma": 0.002, "jpeg_quality": 85}


def levels() -> list[float]:
    """``EVAL_LOWLIGHT_LEVELS``: comma-separated light factors; empty turns the stress test off."""
    raw = tunables.EVAL_LOWLIGHT_LEVELS.strip()
    return sorted({float(x) for x in raw.split(",") if x.strip()})


def _enhancer() -> Any:
    return pipeline_enhancer()


def _sigma() -> float:
    return float(thresholds().enhanced_detect_sigma)


def config_tag() -> str:
    enh = _enhancer()
    spec = {"darken": DARKEN, "enhancer": [enh.model_id, str(enh.version)], "sigma": _sigma()}
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:4]


def variant(level: float, enhanced: bool, tag: str) -> str:
    return f"d{int(round(level * 1000)):03d}{'e' if enhanced else ''}{tag}"


def _rng(sha: str, level: float) -> np.random.Generator:
    return np.random.default_rng([zlib.crc32(sha.encode()), int(round(level * 1e6))])


def missing(sha: str, dets: list[engine.ModelSpec], have: set[tuple[str, str, str, str, str]], tag: str,
            lv: list[float]) -> list[tuple[engine.ModelSpec, float, bool]]:
    return [(s, level, enh) for s in dets for level in lv for enh in (False, True)
            if (sha, s.id, s.version, variant(level, enh, tag), "detection") not in have]


def compute(sha: str, key: str, todo: list[tuple[engine.ModelSpec, float, bool]], tag: str) -> list[dict[str, Any]]:
    """ModelResult rows for the missing (detector, level, enhanced) of one photo. Raises OSError
    when the photo cannot be read."""
    with private_storage().open(key, "rb") as fh:
        data = fh.read()
    dec = decode(data, max_side=engine.DECODE_SIDE, min_side=int(engine.DECODE_SIDE * 0.75))
    s = dec.scale
    out: list[dict[str, Any]] = []
    for level in sorted({lv for _, lv, _ in todo}):
        dark = darken(dec.rgb, _rng(sha, level), light=level, **DARKEN)  # type: ignore[arg-type]
        images = {False: dark}
        if any(enh for _, lv, enh in todo if lv == level):
            images[True] = for_detection(_enhancer().enhance(dark), _sigma())
        for spec, lv, enh in todo:
            if lv != level:
                continue
            dets = engine.get_model(spec.id, "detection").detect(images[enh])
            out.append({"content_sha256": sha, "model_id": spec.id, "model_version": spec.version,
                        "variant": variant(level, enh, tag), "task": "detection",
                        "result": {"detections": [(d.scaled(1 / s) if s != 1 else d).as_dict() for d in dets],
                                   "light": level}})
    return out


def metric_rows(spec: engine.ModelSpec, items: list[Any], hits: np.ndarray, *, results: Any, min_n: int,
                n_boot: int) -> tuple[list[M.MetricRow], dict[str, Any]]:
    """The stress test's rows of one detector over the run's items (``hits``: found when lit).

    ``results(shas, spec, task, variant)`` reads the cache. Photos missing a dark result (file
    gone meanwhile) are left out of the stress test only."""
    lv = levels()
    if not lv or not items:
        return [], {}
    tag = config_tag()
    dark: dict[float, np.ndarray] = {}
    enh: dict[float, np.ndarray] = {}
    ok = np.ones(len(items), dtype=bool)
    shas = [it.sha256 for it in items]
    for level in lv:
        got = {e: results(shas, spec, "detection", variant(level, e, tag)) for e in (False, True)}
        for e, store in ((False, dark), (True, enh)):
            arr = np.zeros(len(items), dtype=float)
            for i, it in enumerate(items):
                r = got[e].get(it.sha256)
                if r is None:
                    ok[i] = False
                    continue
                box = it.face["box"] if it.face else None
                arr[i] = M.matched_face(r.result.get("detections", []), box, min_score=engine.MIN_SCORE) is not None
            store[level] = arr
    keep = np.flatnonzero(ok)
    if keep.size == 0:
        return [], {"levels": lv, "photos": 0}
    rows = lowlight_metrics(hits[keep], {lv_: a[keep] for lv_, a in dark.items()},
                            {lv_: a[keep] for lv_, a in enh.items()}, [items[i].categories for i in keep],
                            [items[i].subject for i in keep], min_group_size=min_n, n_boot=n_boot, seed=0)
    return rows, {"levels": lv, "photos": int(keep.size), "variant_tag": tag}
