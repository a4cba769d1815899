"""The image work of the pipeline for one photo: pure computation, no database, no storage.

``analyse_photo(jpeg_bytes, ...)`` decodes, assesses the light, enhances when dark, detects
faces on the original and on the enhanced copy, judges the photo and renders the derived
files. The Django side (``services``) claims the row, calls this, stores the result. Keeping
it free of Django lets ``bench/ingest.py`` time exactly the work a worker does.

Where the pixels come from, and why:
- assessment (on the thumbnail) and detection run on a reduced decode (libjpeg decodes at a
  DCT scale of 1/2, 1/4 or 1/8, long side 768-1024 px). RetinaFace is as accurate there as at
  12 MP and ~20x cheaper, and finds fewer false positives (FINDINGS). A cascade runs it first
  at 384 px (a seventh of the cost) and keeps that answer only for one large, confident face
  with no other candidate (``_detect_original``);
- the full resolution is decoded only when a person will look at it: the enhanced copy of a
  dark photo;
- the face crops are cut from the smallest DCT scale at which the face box is still at least
  175 px (it spans 155-170 px of the 224 px crop, which is then never upsampled).
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from enhancement.detection import DETECTION_SIGMA, for_detection
from ml.align import align_face
from ml.detectors.base import Detection, Detector
from ml.imageio import Decoded, decode, decode_at_scale, encode_jpeg, resize_long_side
from ml.quality import face_quality

logger = logging.getLogger(__name__)

#: Finding codes. The machine advises, people decide: a finding is shown to the contributor
#: (the sentence they read lives on the Django side, translatable) and to moderators as a
#: flag; only ``route`` decides what happens next.
NO_FACE = "no_face"
MULTIPLE_FACES = "multiple_faces"
FACE_SMALL = "face_small"
FACE_CUT_OFF = "face_cut_off"
SOFT = "soft"
DARK = "dark"
LIGHTING_MISMATCH = "lighting_mismatch"
FINDINGS: tuple[str, ...] = (NO_FACE, MULTIPLE_FACES, FACE_SMALL, FACE_CUT_OFF, SOFT, DARK, LIGHTING_MISMATCH)

#: Routes. ``review``: a face was found; the photo goes to the moderation queue and its
#: findings are flags. ``await_contributor``: no face even on the enhanced copy; the photo is
#: neither queued nor rejected, the contributor deletes it, retakes it or asks a person to look.
#: ``reject``: a certainty no person would overrule (two or more clear faces); the contributor
#: can still ask for a review.
ROUTE_REVIEW = "review"
ROUTE_AWAIT_CONTRIBUTOR = "await_contributor"
ROUTE_REJECT = "reject"
ROUTES: tuple[str, ...] = (ROUTE_REVIEW, ROUTE_AWAIT_CONTRIBUTOR, ROUTE_REJECT)


@dataclass(frozen=True)
class Thresholds:
    """The verdict's bars. Defaults are the platform's; services read overrides from settings."""

    #: RetinaFace face probability for a detection to count as a face (FINDINGS use > 0.9).
    min_score: float = 0.9
    #: Short side of the face box, in pixels of the full-resolution original. Below it:
    #: ``face_small``. 64 px is the scale at which ``ml.quality`` judges every face (its 96 px
    #: crop holds a ~67 px face box): a smaller face is judged on interpolated pixels, and its
    #: 112 px crop is mostly interpolation. Not a sharpness question: the sharpness measure
    #: does not read a face shrunk to 32-64 px as soft (0.7% / 0% of the calibration set's lit
    #: utk faces, bench/calibrate_quality.py), so size needs its own finding. Flag rate on the
    #: lit and phone-like calibration photos: 0% in every cell (docs/quality.md).
    min_face_px: int = 64
    #: ``ml.quality.sharpness`` (detail kept between two scales of the face aligned at one fixed
    #: size, denoised; 1 = none at all). Below it: ``soft``, a flag for moderators, never a
    #: rejection. Calibrated by bench/calibrate_quality.py on 300 utk photos (30 per race x
    #: gender cell) and faces/, each as is and phone-like (must not be flagged) and blurred by
    #: 4% / 8% of the face width (must be): thresholds 1.375-1.575 flag no lit photo in any cell;
    #: 1.475 (the middle) flags 99% of the 4% and every 8% blur whose face is found
    #: (docs/quality.md has the sweep and the per-cell rates).
    min_sharpness: float = 1.475
    #: ``ml.quality`` highlight: the brightest tenth of the inner face's luma (0-1) as recorded,
    #: before any enhancement (light falling on forehead, cheekbones and nose, on any skin).
    #: Below it: ``dark``. Calibrated as ``min_sharpness``, against copies at 3% and 1.5% of the
    #: light (enhancement.degrade, FINDINGS' model): 0.17-0.27 flag no lit photo in any cell and
    #: every dark copy whose face is found; 0.23 is the middle.
    min_face_highlight: float = 0.23
    #: ``ml.quality.outside_share``: share of the face (brows to chin, cheek to cheek, mapped back
    #: through the five landmarks) outside the frame. Above it: ``face_cut_off``. Calibrated as
    #: ``min_sharpness`` against copies with a third of the face box cut away at one edge: 0.15
    #: flags 0.6% of the tightly framed lit utk photos and 99% of the cut ones.
    max_outside_share: float = 0.15
    #: Automatic rejection needs two faces each at least this confident, each at least
    #: ``min_face_px`` and the second at least ``reject_second_face_ratio`` of the first's short
    #: side: a bystander far behind, a face on a poster or a doubtful detection goes to a person.
    reject_min_score: float = 0.98
    reject_second_face_ratio: float = 0.5
    #: Long side of the image the detector sees.
    detect_side: int = 1024
    #: Long side of the cascade's cheap pass (0: no cascade, every photo gets the full pass).
    #: RetinaFace at 384 px costs a seventh of the full pass at 1008 px and finds faces of
    #: >= ~16 px there (>= ~170 px in a 12 MP photo); a smaller bystander beside one large
    #: confident face is not looked for. Measured (bench/ingest.py, 16 phone photos): mean CPU
    #: per photo 81 ms at 384, 87 at 448, 92 at 512, 102 without the cascade, the same face
    #: counts; on 100 phone-like utk photos the same routes and findings at 384 as at 512.
    #: See ``_detect_original`` for when its answer is kept.
    cascade_side: int = 384
    #: Short side, in pixels of the cheap pass's image, of the one face for the cheap pass to
    #: be sure: 40 px is ~10% of its long side, 2.5 times the detector's smallest anchor.
    cascade_min_face: int = 40
    #: Gaussian sigma (pixels of the detector's input) applied to the enhanced copy before
    #: detection, against the noise the enhancer brightened; 0 turns it off. The copy people
    #: see is not smoothed. Measured: see ``enhancement.detection``.
    enhanced_detect_sigma: float = DETECTION_SIGMA


@dataclass
class DerivedImage:
    variant: str
    data: bytes
    width: int
    height: int

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass
class PhotoResult:
    findings: list[str]  # codes of FINDINGS, in that order
    route: str  # one of ROUTES
    lowlight: dict[str, Any]
    enhanced: bool
    enhancer_id: str
    enhancer_version: str
    detector_id: str
    detector_version: str
    detections_original: list[Detection]
    detections_enhanced: list[Detection]
    face: dict[str, Any]
    sharpness: float | None
    timings_ms: dict[str, float]
    files: list[DerivedImage] = field(default_factory=list)

    @property
    def faces_found(self) -> int:
        """Faces counted by the verdict (score >= min_score), on the image it judged."""
        return int(self.face.get("count", 0))


def _confident(dets: list[Detection], min_score: float) -> list[Detection]:
    return [d for d in dets if d.score >= min_score]


def _box_area(d: Detection) -> float:
    x1, y1, x2, y2 = d.box
    return max(0.0, x2 - x1) * max(0.0, y2 - y1)


def _short_side(d: Detection) -> float:
    x1, y1, x2, y2 = d.box
    return min(x2 - x1, y2 - y1)


def _clearly_several(faces: list[Detection], t: Thresholds) -> bool:
    """Two or more faces that no person would call one: each confident and large enough,
    the second comparable in size to the first."""
    clear = sorted((d for d in faces if d.score >= t.reject_min_score and _short_side(d) >= t.min_face_px),
                   key=_short_side, reverse=True)
    return len(clear) >= 2 and _short_side(clear[1]) >= t.reject_second_face_ratio * _short_side(clear[0])


def _detect_original(small: Decoded, detector: Detector, t: Thresholds, *, low_light: bool,
                     timings: dict[str, float]) -> list[Detection]:
    """Faces on the photo as recorded: a cheap pass, and the full pass only when it is unsure.

    ``small`` is the decode at ``t.detect_side``. The cheap pass runs on it reduced to
    ``t.cascade_side`` (an area resize: ~1 ms, where a second, smaller JPEG decode would cost
    nearly a full one, the entropy decoding being the same). Its answer is kept only when it
    found exactly one face, confident, with no other candidate at all, at least
    ``t.cascade_min_face`` px at its scale (a selfie or a portrait). Everything else (no face,
    several, a small one, a doubtful candidate, a low light photo) gets the full pass.
    Detections are in pixels of the full-resolution original.
    """
    t0 = time.perf_counter()
    if t.cascade_side and not low_light and max(small.rgb.shape[:2]) > t.cascade_side / 0.75:
        # A dark photo's noise costs the cheap pass most: it goes straight to the full pass.
        cheap, _ = resize_long_side(small.rgb, t.cascade_side)
        k = cheap.shape[1] / small.rgb.shape[1]
        dets = [d.scaled(1 / (small.scale * k)) for d in detector.detect(cheap)]
        timings["detect_cheap"] = (time.perf_counter() - t0) * 1000
        if (len(dets) == 1 and dets[0].score >= t.min_score and len(dets[0].landmarks) == 5
                and _short_side(dets[0]) * small.scale * k >= t.cascade_min_face):
            return dets
        t0 = time.perf_counter()
    dets = detector.detect(small.rgb)
    dets = [d.scaled(1 / small.scale) for d in dets] if small.scale != 1 else dets
    timings["detect"] = (time.perf_counter() - t0) * 1000
    return dets


def analyse_photo(data: bytes, *, detector: Detector, enhancer_factory: Callable[[], Any] | None,
                  assess: Callable[[np.ndarray], Any], thresholds: Thresholds = Thresholds(),
                  render: bool = True, declared_low_light: bool | None = None) -> PhotoResult:
    """Run the pipeline's image work on the bytes of a stored (normalised JPEG) original.

    ``declared_low_light``: whether the contributor declared the photo's light as low (None:
    not declared); a disagreement with the measured light is the ``lighting_mismatch`` finding.

    ``enhancer_factory`` is called only when the photo is low light (loading Zero-DCE++ costs
    more than the rest of the pipeline). ``render=False`` skips the derived files.
    Raises ``OSError`` for a corrupt or truncated file.
    """
    t = thresholds
    timings: dict[str, float] = {}
    t_all = t0 = time.perf_counter()

    small = decode(data, max_side=t.detect_side, min_side=int(t.detect_side * 0.75))
    s = small.scale
    timings["decode"] = (time.perf_counter() - t0) * 1000

    t0 = time.perf_counter()
    # The thumbnail is needed anyway, and the light statistics barely change below ~256 px.
    thumb, _ = resize_long_side(small.rgb, 320)
    report = assess(thumb)
    timings["assess"] = (time.perf_counter() - t0) * 1000

    dets_o = _detect_original(small, detector, t, low_light=bool(report.is_low_light), timings=timings)

    enhanced_full: np.ndarray | None = None
    full_rgb: np.ndarray | None = small.rgb if s == 1 else None
    dets_e: list[Detection] = []
    enhancer_id = enhancer_version = ""
    if report.is_low_light and enhancer_factory is not None:
        t0 = time.perf_counter()
        enhancer = enhancer_factory()
        enhancer_id, enhancer_version = enhancer.model_id, enhancer.version
        if full_rgb is None:
            full_rgb = decode(data).rgb
        enhanced_full = enhancer.enhance(full_rgb)
        timings["enhance"] = (time.perf_counter() - t0) * 1000
        t0 = time.perf_counter()
        enh_small = enhanced_full if s == 1 else cv2.resize(
            enhanced_full, (small.rgb.shape[1], small.rgb.shape[0]), interpolation=cv2.INTER_AREA)
        enh_small = for_detection(enh_small, t.enhanced_detect_sigma)
        dets_e = [d.scaled(1 / s) for d in detector.detect(enh_small)] if s != 1 else detector.detect(enh_small)
        timings["detect_enhanced"] = (time.perf_counter() - t0) * 1000

    # Detecting on both the original and the enhanced copy and keeping either recovers more
    # faces than any single enhancer (FINDINGS). The original wins when it has a face: its
    # detections are not shaped by the enhancer. A second face seen in either image is a
    # second person (a bystander visible only once brightened is still a bystander).
    conf_o, conf_e = _confident(dets_o, t.min_score), _confident(dets_e, t.min_score)
    findings: set[str] = set()
    route = ROUTE_REVIEW
    source = "original" if conf_o or not conf_e else "enhanced"
    faces = conf_o if source == "original" else conf_e
    if len(conf_o) > 1 or len(conf_e) > 1:
        findings.add(MULTIPLE_FACES)
        if len(conf_e) > len(conf_o):
            source, faces = "enhanced", conf_e
        if _clearly_several(faces, t):
            route = ROUTE_REJECT
    chosen = max(faces, key=_box_area) if faces else None
    if chosen is None:
        findings.add(NO_FACE)
        if report.is_low_light:  # the light is the likelier reason: say so too
            findings.add(DARK)
        route = ROUTE_AWAIT_CONTRIBUTOR
    if declared_low_light is not None and bool(declared_low_light) != bool(report.is_low_light):
        findings.add(LIGHTING_MISMATCH)
    face: dict[str, Any] = {"count": len(faces), "source": source}

    crop112 = crop224 = None
    sharp: float | None = None
    t0 = time.perf_counter()
    if chosen is not None and len(chosen.landmarks) != 5:
        # A detector without landmarks cannot give an aligned crop: a person must look.
        findings.add(NO_FACE)
        route = ROUTE_AWAIT_CONTRIBUTOR
    elif chosen is not None:
        x1, y1, x2, y2 = chosen.box
        short = min(x2 - x1, y2 - y1)
        face.update(chosen.as_dict())
        face["short_side_px"] = round(float(short), 1)
        if short < t.min_face_px:
            findings.add(FACE_SMALL)
        if enhanced_full is not None:
            # Judge (and crop) the face as it will be seen: brightened where the photo was dark.
            img, scale = enhanced_full, 1.0
        elif full_rgb is not None:
            img, scale = full_rgb, 1.0
        else:
            # The face box spans 155-170 px of the 224 crop (measured: the astronaut and seven
            # faces/ photos): at a scale where the box is >= 175 px the crop is never upsampled.
            # (The bar was 224 px: a second, half-scale decode of most 12 MP selfies for nothing.)
            need = min(1.0, 175 / max(1.0, short))
            if need <= s:
                img, scale = small.rgb, s
            else:
                dec = decode_at_scale(data, need)
                img, scale = dec.rgb, dec.scale
        pts = np.asarray(chosen.landmarks, dtype=np.float64) * scale
        crop224 = align_face(img, pts, 224)
        crop112 = align_face(img, pts, 112)
        # Exposure is read on the photo as recorded; sharpness on the face as it will be seen.
        q = face_quality(img, pts, original=full_rgb if enhanced_full is not None else None)
        sharp = q.sharpness
        face.update(q.as_dict())
        if q.outside_share > t.max_outside_share:
            findings.add(FACE_CUT_OFF)
        if q.highlight < t.min_face_highlight:
            findings.add(DARK)
        if q.sharpness < t.min_sharpness:
            findings.add(SOFT)
    else:
        # No face the verdict counts, but the detector's best doubtful one (score >= its own 0.5):
        # a face too blurred to be sure of is a likelier reason than no face at all, so say so
        # too (measured: most faces blurred by 8% of their width that RetinaFace loses).
        doubtful = [d for d in dets_o + dets_e if len(d.landmarks) == 5]
        if doubtful:
            best = max(doubtful, key=lambda d: d.score)
            img = enhanced_full if enhanced_full is not None else full_rgb if full_rgb is not None else small.rgb
            scale = 1.0 if img is not small.rgb else s
            q = face_quality(img, np.asarray(best.landmarks, dtype=np.float64) * scale)
            face["doubtful"] = {"score": round(best.score, 4), "sharpness": round(q.sharpness, 4)}
            if q.sharpness < t.min_sharpness:
                findings.add(SOFT)
    timings["judge"] = (time.perf_counter() - t0) * 1000

    files: list[DerivedImage] = []
    if render:
        t0 = time.perf_counter()
        files.append(DerivedImage("thumbnail", encode_jpeg(thumb, 85), thumb.shape[1], thumb.shape[0]))
        if enhanced_full is not None:
            files.append(DerivedImage("enhanced", encode_jpeg(enhanced_full, 90),
                                      enhanced_full.shape[1], enhanced_full.shape[0]))
        # Crops are biometric templates: kept only for photos that go on to review.
        if route == ROUTE_REVIEW and crop112 is not None and crop224 is not None:
            files.append(DerivedImage("crop", encode_jpeg(crop112, 95), 112, 112))
            files.append(DerivedImage("crop224", encode_jpeg(crop224, 95), 224, 224))
        timings["render"] = (time.perf_counter() - t0) * 1000
    timings["total"] = (time.perf_counter() - t_all) * 1000

    return PhotoResult(
        findings=[f for f in FINDINGS if f in findings], route=route, lowlight=report.as_dict(), enhanced=enhanced_full is not None,
        enhancer_id=enhancer_id, enhancer_version=enhancer_version,
        detector_id=detector.model_id, detector_version=detector.version,
        detections_original=dets_o, detections_enhanced=dets_e, face=face,
        sharpness=None if sharp is None or math.isnan(sharp) else round(sharp, 2),
        timings_ms={k: round(v, 2) for k, v in timings.items()}, files=files,
    )
