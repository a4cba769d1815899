"""Abuse and duplicate signals for the review screen (and for rewards, which do not pay
for near-duplicates or the same face under another account).

- Near-duplicates: perceptual-hash Hamming distance ≤ ``NEAR_DUPLICATE_MAX_DISTANCE`` (8),
  within and across accounts. Candidates come from multi-index hashing (see ``PhotoHash``):
  four indexed 16-bit bands, each probed with the 137 values within 2 bits of ours. This is
  exact (no pair within 8 bits is missed, by pigeonhole) and reads ~137·4/65536 of the table
  per band for uniformly spread hashes, against a full scan for the naive query. Real phashes
  cluster more than uniform ones, so the candidate set is bounded (``NEAR_DUPLICATE_MAX_CANDIDATES``)
  and the exact distance is checked in Python.
- Same face: dlib ResNet embeddings (Euclidean) of the face the pipeline validated, compared
  with other accounts' embeddings; flagged at distance ≤ ``SAME_FACE_MAX_DISTANCE`` (0.5: more
  conservative than dlib's usual 0.6, since a flag costs a contributor their reward until a
  moderator clears it). The comparison is a brute-force scan in chunks, fine to a few hundred
  thousand faces; beyond that it needs a vector index (pgvector), which the project does not
  ship.
- Inconsistent declarations: the same contributor declaring, on their own photos, skin tones
  more than 2 Monk steps apart, non-adjacent age ranges, or different ethnicity sets.
"""

from __future__ import annotations

import io
import logging
from itertools import combinations
from typing import Any

import numpy as np
from django.db import IntegrityError, transaction
from django.db.models import Q
from PIL import Image

from facecommons.common.storage import private_storage
from facecommons.common.tunables import tunables
from facecommons.contributions.models import Contribution, FileVariant
from facecommons.moderation.events import flag_changed
from facecommons.moderation.models import ContributionFlag, FaceEmbedding, FlagKind, PhotoHash
from ml.detectors.base import Detection
from ml.registry import get_model

logger = logging.getLogger(__name__)

BANDS = 4
BAND_BITS = 16
BAND_RADIUS = 2  # 4 bands × (2 + 1) > 8: some band is within 2 bits of the other hash
VERIFIER = "dlib-resnet"
NOT_DECLARED = {"prefer_not_to_say", "", None}
AGE_ORDER = ["18_24", "25_34", "35_44", "45_54", "55_64", "65_plus"]


# --- perceptual hash ------------------------------------------------------------------------

def phash_int(hex_hash: str) -> int:
    return int(hex_hash, 16) & ((1 << 64) - 1)


def to_signed64(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


def bands(value: int) -> list[int]:
    return [(value >> (BAND_BITS * i)) & 0xFFFF for i in range(BANDS)]


def _neighbours(band: int, radius: int = BAND_RADIUS) -> list[int]:
    out = [band]
    for r in range(1, radius + 1):
        for bits in combinations(range(BAND_BITS), r):
            v = band
            for b in bits:
                v ^= 1 << b
            out.append(v)
    return out


def hamming(a: int, b: int) -> int:
    return ((a ^ b) & ((1 << 64) - 1)).bit_count()


def photo_hash_store(contribution: Contribution) -> PhotoHash | None:
    if not contribution.phash:
        return None
    value = phash_int(contribution.phash)
    b = bands(value)
    obj, _ = PhotoHash.objects.update_or_create(
        contribution=contribution,
        defaults={"owner_id": contribution.owner_id, "phash": to_signed64(value), "band0": b[0], "band1": b[1],
                  "band2": b[2], "band3": b[3]})
    return obj


def near_duplicates_find(contribution: Contribution, max_distance: int | None = None) -> list[tuple[Any, int, Any]]:
    """(contribution id, Hamming distance, owner id) of stored photos within ``max_distance``."""
    limit = tunables.NEAR_DUPLICATE_MAX_DISTANCE if max_distance is None else max_distance
    if limit > BANDS * (BAND_RADIUS + 1) - 1:
        raise ValueError(f"the band index finds distances up to {BANDS * (BAND_RADIUS + 1) - 1} bits")
    value = phash_int(contribution.phash)
    q = Q()
    for i, band in enumerate(bands(value)):
        q |= Q(**{f"band{i}__in": _neighbours(band)})
    cap = tunables.NEAR_DUPLICATE_MAX_CANDIDATES
    rows = (PhotoHash.objects.filter(q).exclude(contribution_id=contribution.pk)
            .values_list("contribution_id", "phash", "owner_id")[:cap])
    out = []
    for cid, other, owner_id in rows:
        d = hamming(value, other)
        if d <= limit:
            out.append((cid, d, owner_id))
    return sorted(out, key=lambda r: r[1])


def flag_raise(contribution: Contribution, kind: str, related_id: Any, score: float, detail: dict[str, Any]) -> bool:
    """Create a flag once (idempotent: the task may run twice); ``flag_changed`` tells rewards."""
    if ContributionFlag.objects.filter(contribution=contribution, kind=kind, related_contribution_id=related_id
                                       ).exists():
        return False
    try:
        with transaction.atomic():
            ContributionFlag.objects.create(contribution=contribution, kind=kind, related_contribution_id=related_id,
                                            score=score, detail=detail)
            flag_changed.emit(contribution_id=contribution.pk, kind=kind, resolved=False)
    except IntegrityError:
        return False
    return True


def flag_near_duplicates(contribution: Contribution) -> int:
    photo_hash_store(contribution)
    n = 0
    for cid, d, owner_id in near_duplicates_find(contribution):
        n += flag_raise(contribution, FlagKind.NEAR_DUPLICATE, cid, float(d),
                   {"hamming": d, "same_account": owner_id == contribution.owner_id})
    return n


# --- face embeddings -----------------------------------------------------------------------

def verifier() -> Any:
    return get_model(VERIFIER, "verifier")


def vector_to_bytes(vec: np.ndarray) -> bytes:
    return np.asarray(vec, dtype="<f4").tobytes()


def vector_from_bytes(data: Any) -> np.ndarray:
    return np.frombuffer(bytes(data), dtype="<f4")


def _face(contribution: Contribution) -> Any:
    analysis = getattr(contribution, "analysis", None)
    face = getattr(analysis, "face", None) if analysis is not None else None
    if not face or not face.get("box"):
        return None
    return Detection(box=tuple(face["box"]), score=float(face.get("score", 1.0)),
                     landmarks=tuple(tuple(p) for p in face.get("landmarks") or ()))


def face_embedding_compute(contribution: Contribution) -> FaceEmbedding | None:
    """Embed the validated face of ``contribution`` (stored once per model version)."""
    v = verifier()
    existing = FaceEmbedding.objects.filter(contribution=contribution, model_id=v.model_id, version=v.version).first()
    if existing is not None:
        return existing
    face = _face(contribution)
    if face is None:
        return None
    f = contribution.files.filter(variant=FileVariant.ORIGINAL).first()
    if f is None:
        return None
    with private_storage().open(f.key, "rb") as fh, Image.open(io.BytesIO(fh.read())) as im:
        rgb = np.asarray(im.convert("RGB"))
    vec = v.embed(rgb, face)
    try:
        with transaction.atomic():
            return FaceEmbedding.objects.create(contribution=contribution, owner_id=contribution.owner_id,
                                                model_id=v.model_id, version=v.version, vector=vector_to_bytes(vec))
    except IntegrityError:
        return FaceEmbedding.objects.get(contribution=contribution, model_id=v.model_id, version=v.version)


def same_face_find(embedding: FaceEmbedding, max_distance: float | None = None,
                   chunk: int = 5000) -> list[tuple[Any, float]]:
    """(contribution id, distance) of other accounts' faces within ``max_distance``."""
    limit = tunables.SAME_FACE_MAX_DISTANCE if max_distance is None else max_distance
    mine = vector_from_bytes(embedding.vector)
    qs = (FaceEmbedding.objects.filter(model_id=embedding.model_id, version=embedding.version)
          .exclude(owner_id=embedding.owner_id).values_list("contribution_id", "vector"))
    out: list[tuple[Any, float]] = []
    ids: list[Any] = []
    vecs: list[np.ndarray] = []

    def flush() -> None:
        if not ids:
            return
        d = np.linalg.norm(np.stack(vecs) - mine, axis=1)
        out.extend((ids[i], float(d[i])) for i in np.flatnonzero(d <= limit))
        ids.clear()
        vecs.clear()

    for cid, vec in qs.iterator(chunk_size=chunk):
        ids.append(cid)
        vecs.append(vector_from_bytes(vec))
        if len(ids) >= chunk:
            flush()
    flush()
    return sorted(out, key=lambda r: r[1])


def flag_same_face(contribution: Contribution) -> int:
    try:
        emb = face_embedding_compute(contribution)
    except Exception as exc:  # noqa: BLE001 - a verifier that cannot load must not block the queue
        logger.warning("same-face check of %s failed: %s", contribution.pk, exc)
        return 0
    if emb is None:
        return 0
    n = 0
    for cid, d in same_face_find(emb):
        n += flag_raise(contribution, FlagKind.SAME_FACE, cid, d, {"distance": round(d, 4), "model": emb.model_id})
    return n


# --- declarations --------------------------------------------------------------------------

def _one(value: Any) -> Any:
    if isinstance(value, list):
        return value[0] if len(value) == 1 else None
    return value


def declaration_conflicts(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    """Which of skin tone, age range, ethnicity differ beyond tolerance between two declarations."""
    out = []
    ta, tb = _one(a.get("skin_tone")), _one(b.get("skin_tone"))
    if ta not in NOT_DECLARED and tb not in NOT_DECLARED and str(ta).isdigit() and str(tb).isdigit() \
            and abs(int(ta) - int(tb)) > 2:
        out.append("skin_tone")
    aa, ab = _one(a.get("age_range")), _one(b.get("age_range"))
    if aa in AGE_ORDER and ab in AGE_ORDER and abs(AGE_ORDER.index(aa) - AGE_ORDER.index(ab)) > 1:
        out.append("age_range")

    def eth(d: dict[str, Any]) -> set[str]:
        v = d.get("ethnicity")
        return {str(x) for x in (v if isinstance(v, list) else [v]) if x not in NOT_DECLARED}

    ea, eb = eth(a), eth(b)
    if ea and eb and ea != eb:
        out.append("ethnicity")
    return out


def flag_inconsistent_declarations(contribution: Contribution) -> int:
    others = (Contribution.objects.filter(owner_id=contribution.owner_id).exclude(pk=contribution.pk)
              .order_by("created_at").values_list("pk", "categories")[:500])
    n = 0
    for pk, cats in others:
        fields = declaration_conflicts(contribution.categories, cats or {})
        if fields:
            detail = {"fields": fields, **{f: {"this": contribution.categories.get(f), "other": (cats or {}).get(f)}
                                           for f in fields}}
            n += flag_raise(contribution, FlagKind.INCONSISTENT_DECLARATION, pk, float(len(fields)), detail)
    return n


def abuse_check(*, contribution_id: Any) -> dict[str, int]:
    """All checks for one contribution; idempotent. Missing (deleted) contributions are skipped."""
    c = (Contribution.objects.select_related("analysis").filter(pk=contribution_id).first())
    if c is None:
        return {}
    return {"near_duplicate": flag_near_duplicates(c), "inconsistent_declaration": flag_inconsistent_declarations(c),
            "same_face": flag_same_face(c)}
