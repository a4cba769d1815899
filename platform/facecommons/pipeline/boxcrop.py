"""Face crops from a box a moderator drew, for photos in which the detector found no face.

Pure computation (no Django), like ``analysis``. The crops must frame the face as the
pipeline's own crops do (``ml.align`` on five landmarks), so the box is turned into five
landmarks at the positions RetinaFace's landmarks take inside its own boxes.

``BOX_LANDMARKS`` was measured on ``../shared/data/utk/`` (every 8th adult, 500 faces with one
confident detection, each 200 px photo on a 600 px canvas): the mean landmark position
relative to the box, made left-right symmetric. Across the ten race x gender cells the means
span at most 0.04 of the box for the eyes and mouth corners (eyes x 0.244-0.277 /
0.691-0.733, y 0.402-0.434; mouth y 0.736-0.766) and 0.06 for the nose tip (x 0.446-0.507),
less than one person's spread (sd 0.03-0.07, nose x 0.11), so one template serves every
group. Script: ``bench/box_landmarks.py``; figures in ``docs/front-door.md``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from facecommons.pipeline.analysis import DerivedImage
from ml.align import align_face
from ml.imageio import decode, encode_jpeg

#: (x, y) of left eye, right eye, nose tip, left and right mouth corner, as shares of the box.
BOX_LANDMARKS: tuple[tuple[float, float], ...] = (
    (0.272, 0.416), (0.728, 0.416), (0.5, 0.624), (0.307, 0.754), (0.693, 0.754))
#: Smallest side (pixels of the stored original) a drawn box may have.
MIN_BOX_PX = 16


def box_validate(box: Any, width: int, height: int) -> tuple[float, float, float, float]:
    """``box`` as four floats (x1, y1, x2, y2) inside a ``width`` x ``height`` photo, or ValueError
    with a sentence saying what is wrong."""
    if not isinstance(box, list | tuple) or len(box) != 4:
        raise ValueError("The face box must be four numbers: x1, y1, x2, y2.")
    try:
        x1, y1, x2, y2 = (float(v) for v in box)
    except (TypeError, ValueError) as exc:
        raise ValueError("The face box must be four numbers: x1, y1, x2, y2.") from exc
    if not all(np.isfinite([x1, y1, x2, y2])):
        raise ValueError("The face box must be four numbers: x1, y1, x2, y2.")
    x1, x2 = max(0.0, min(x1, x2)), min(float(width), max(x1, x2))
    y1, y2 = max(0.0, min(y1, y2)), min(float(height), max(y1, y2))
    if x2 - x1 < MIN_BOX_PX or y2 - y1 < MIN_BOX_PX:
        raise ValueError(f"The face box must lie on the photo and be at least {MIN_BOX_PX} px on each side.")
    return x1, y1, x2, y2


def landmarks_from_box(box: tuple[float, float, float, float]) -> list[tuple[float, float]]:
    x1, y1, x2, y2 = box
    return [(x1 + fx * (x2 - x1), y1 + fy * (y2 - y1)) for fx, fy in BOX_LANDMARKS]


def crops_from_box(data: bytes, box: tuple[float, float, float, float]) -> tuple[dict[str, Any], list[DerivedImage]]:
    """The face record and the 112 and 224 px crops for ``box`` on the JPEG ``data`` (the stored
    original, or the enhanced copy of a dark photo: both have the original's size)."""
    rgb = decode(data).rgb
    pts = landmarks_from_box(box)
    files = []
    for variant, size in (("crop", 112), ("crop224", 224)):
        crop = align_face(rgb, np.asarray(pts), size)
        files.append(DerivedImage(variant, encode_jpeg(crop, 95), size, size))
    face = {"count": 1, "source": "moderator", "box": [round(v, 2) for v in box],
            "landmarks": [[round(x, 2), round(y, 2)] for x, y in pts],
            "short_side_px": round(min(box[2] - box[0], box[3] - box[1]), 1)}
    return face, files
