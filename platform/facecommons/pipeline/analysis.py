"""The image work of the pipeline for one photo: pure computation, no database, no storage.

``analyse_photo(jpeg_bytes, ...)`` decodes, assesses the light, enhances when dark, detects
faces on the original and on the enhanced copy, judges the photo and renders the derived
files. The Django side (``services``) claims the row, calls this, stores the result. Keeping
it free of Django lets ``bench/ingest.py`` time exactly the work a worker does.

Where the pixels come from, and why:
- assessment (on the thumbnail) and detection run on a reduced decode (libjpeg decodes at a
  DCT scale of 1/2, 1/4 or 1/8, long side 768-1024 px). RetinaFace is as accurate there as at
  12 MP and ~20x cheaper, and finds fewer false positives (FINDINGS);
- the full resolution is decoded only when a person will look at it: the enhanced copy of a
  dark photo;
- the face crops are cut from the smallest DCT scale at which the face box is still at least
  224 px (the 224 px crop is then never upsampled).
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
from ml.imageio import decode, decode_at_scale, encode_jpeg, resize_long_side

logger = logging.getLogger(__name__)

#: Reason codes and the sentence the contributor reads.
REASONS: dict[str, str] = {
    "no_face": "We could not find a face in this photo. Please upload a photo in which your face is "
               "clearly visible and turned towards the camera.",
    "multiple_faces": "We found more than one face in this photo. Please upload a photo that shows only you.",
    "face_too_small": "Your face is too small in this photo. Please move closer to the camera, or crop the "
                      "photo around your face, and upload it again.",
    "too_blurry": "Your face is not sharp enough in this photo. Please hold the camera still, make sure it "
                  "focuses on your face, and try again.",
    "too_dark": "This photo is too dark for us to see your face, even after brightening it. Please take a "
                "photo in better light.",
}
OK = "ok"


@dataclass(frozen=True)
class Thresholds:
    """The verdict's bars. Defaults are the platform's; services read overrides from settings."""

    #: RetinaFace face probability for a detection to count as a face (FINDINGS use > 0.9).
    min_score: float = 0.9
    #: Short side of the face box, in pixels of the full-resolution original. 64 px is about the
    #: smallest face from which a 112 px aligned crop is not mostly interpolation.
    min_face_px: int = 64
    #: Variance of the Laplacian of the grey aligned face crop rendered at the face's own scale
    #: (crop side = box short side / 0.7, within 64-224 px, so nothing is upsampled much and
    #: the bar does not depend on the photo's resolution). Measured on scikit-image's astronaut
    #: at face sizes 73-557 px: sharp 120-360; Gaussian blur of 2% of the face width 4-28;
    #: 1% 12-95; darkened (x0.05, noisy) then enhanced 300+ (noise is not blur). 40 rejects
    #: visibly soft faces and keeps every sharp one measured.
    min_sharpness: float = 40.0
    #: Mean luma (0-1) of the aligned face crop, after enhancement where it ran. Deliberately
    #: low: a confident detection already vouches that the face is visible, and a stricter
    #: bar would reject dark skin in ordinary light (measured: the astronaut with its linear
    #: reflectance x0.1, everything else normal, has a face-crop mean of 0.19; the astronaut
    #: at 2% / 1% / 0.5% light, enhanced, 0.107 / 0.078 / 0.058). 0.06 rejects only a face that
    #: is nearly black; a dark photo with no face found at all is "too_dark" as well.
    min_face_brightness: float = 0.06
    #: Long side of the image the detector sees.
    detect_side: int = 1024
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
    verdict: str  # OK or a key of REASONS
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
    def message(self) -> str:
        return REASONS.get(self.verdict, "")

    @property
    def faces_found(self) -> int:
        """Faces counted by the verdict (score >= min_score), on the image it judged."""
        return int(self.face.get("count", 0))


def _luma(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)


def sharpness(gray: np.ndarray) -> float:
    """Variance of the Laplacian (Pech-Pacheco et al. 2000): low when edges are soft."""
    return float(cv2.Laplacian(gray, cv2.CV_64F).var())


def _confident(dets: list[Detection], min_score: float) -> list[Detection]:
    return [d for d in dets if d.score >= min_score]


def analyse_photo(data: bytes, *, detector: Detector, enhancer_factory: Callable[[], Any] | None,
                  assess: Callable[[np.ndarray], Any], thresholds: Thresholds = Thresholds(),
                  render: bool = True) -> PhotoResult:
    """Run the pipeline's image work on the bytes of a stored (normalised JPEG) original.

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
    thumb = resize_long_side(small.rgb, 320)
    report = assess(thumb)
    timings["assess"] = (time.perf_counter() - t0) * 1000

    t0 = time.perf_counter()
    dets_o = [d.scaled(1 / s) for d in detector.detect(small.rgb)] if s != 1 else detector.detect(small.rgb)
    timings["detect"] = (time.perf_counter() - t0) * 1000

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
    verdict = OK
    chosen: Detection | None = None
    source = "original"
    if len(conf_o) > 1 or len(conf_e) > 1:
        verdict = "multiple_faces"
        source = "original" if len(conf_o) >= len(conf_e) else "enhanced"
    elif len(conf_o) == 1:
        chosen = conf_o[0]
    elif len(conf_e) == 1:
        chosen, source = conf_e[0], "enhanced"
    else:
        # Nothing found in a dark photo, even brightened: the light is the likelier reason.
        verdict = "too_dark" if report.is_low_light else "no_face"
    count = len(conf_o) if source == "original" else len(conf_e)
    face: dict[str, Any] = {"count": count, "source": source}

    crop112 = crop224 = None
    sharp: float | None = None
    t0 = time.perf_counter()
    if chosen is not None:
        x1, y1, x2, y2 = chosen.box
        short = min(x2 - x1, y2 - y1)
        face.update(chosen.as_dict())
        face["short_side_px"] = round(float(short), 1)
        if short < t.min_face_px:
            verdict = "face_too_small"
        elif len(chosen.landmarks) == 5:
            if enhanced_full is not None:
                # Judge (and crop) the face as it will be seen: brightened where the photo was dark.
                img, scale = enhanced_full, 1.0
            elif full_rgb is not None:
                img, scale = full_rgb, 1.0
            else:
                # The face box spans ~70% of the 224 crop: a box of >= 224 px leaves nothing to interpolate.
                need = min(1.0, 224 / max(1.0, short))
                if need <= s:
                    img, scale = small.rgb, s
                else:
                    dec = decode_at_scale(data, need)
                    img, scale = dec.rgb, dec.scale
            pts = np.asarray(chosen.landmarks, dtype=np.float64) * scale
            crop224 = align_face(img, pts, 224)
            crop112 = align_face(img, pts, 112)
            native = int(min(224, max(64, short * scale / 0.7)))
            gray = _luma(align_face(img, pts, native))
            sharp = sharpness(gray)
            brightness = float(gray.mean()) / 255.0
            face["brightness"] = round(brightness, 4)
            face["sharpness"] = round(sharp, 2)
            if brightness < t.min_face_brightness:
                verdict = "too_dark"
            elif sharp < t.min_sharpness:
                verdict = "too_blurry"
        else:  # a detector without landmarks cannot give an aligned crop
            verdict = "no_face"
    timings["judge"] = (time.perf_counter() - t0) * 1000

    files: list[DerivedImage] = []
    if render:
        t0 = time.perf_counter()
        files.append(DerivedImage("thumbnail", encode_jpeg(thumb, 85), thumb.shape[1], thumb.shape[0]))
        if enhanced_full is not None:
            files.append(DerivedImage("enhanced", encode_jpeg(enhanced_full, 90),
                                      enhanced_full.shape[1], enhanced_full.shape[0]))
        # Crops are biometric templates: kept only for photos that go on to review.
        if verdict == OK and crop112 is not None and crop224 is not None:
            files.append(DerivedImage("crop", encode_jpeg(crop112, 95), 112, 112))
            files.append(DerivedImage("crop224", encode_jpeg(crop224, 95), 224, 224))
        timings["render"] = (time.perf_counter() - t0) * 1000
    timings["total"] = (time.perf_counter() - t_all) * 1000

    return PhotoResult(
        verdict=verdict, lowlight=report.as_dict(), enhanced=enhanced_full is not None,
        enhancer_id=enhancer_id, enhancer_version=enhancer_version,
        detector_id=detector.model_id, detector_version=detector.version,
        detections_original=dets_o, detections_enhanced=dets_e, face=face,
        sharpness=None if sharp is None or math.isnan(sharp) else round(sharp, 2),
        timings_ms={k: round(v, 2) for k, v in timings.items()}, files=files,
    )
