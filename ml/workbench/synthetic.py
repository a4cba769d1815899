"""A tiny generated snapshot in the published layout, for tests and for trying the workbench
without real photos. The faces are drawn (an ellipse with eyes and a mouth on a textured
background); each person has a fixed shape and skin tone, so every task has something to learn.
It says nothing about real faces: never report figures measured on it."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from ml.align import align_face
from ml.workbench.data import ARCHIVE_ROOT

SKIN = {"white": (222, 188, 160), "black": (95, 62, 45), "east_asian": (214, 178, 140)}
GENDERS = ("man", "woman")


def _draw(rng: np.random.Generator, person: dict[str, Any], size: int) -> tuple[np.ndarray, list[float], list[list[float]]]:
    base = rng.integers(40, 200, size=3)
    img: np.ndarray = np.clip(base + rng.normal(0, 25, (size, size, 3)), 0, 255).astype(np.uint8)
    img = np.asarray(cv2.GaussianBlur(img, (0, 0), 1.5), dtype=np.uint8)
    side = int(size * rng.uniform(0.35, 0.5))
    cx = int(rng.integers(side // 2 + 2, size - side // 2 - 2))
    cy = int(rng.integers(side // 2 + 2, size - side // 2 - 2))
    w, h = side // 2, int(side * person["aspect"]) // 2
    cv2.ellipse(img, (cx, cy), (w, h), 0, 0, 360, person["skin"], -1)
    ex = int(w * person["eyes"])
    eye_y = cy - h // 4
    lm = [[cx - ex, eye_y], [cx + ex, eye_y], [cx, cy + h // 8], [cx - w // 3, cy + h // 2], [cx + w // 3, cy + h // 2]]
    for x, y in lm[:2]:
        cv2.circle(img, (x, y), max(2, side // 14), (20, 20, 20), -1)
    cv2.line(img, tuple(lm[3]), tuple(lm[4]), person["mouth"], max(1, side // 20))
    if person["gender"] == "man":
        cv2.rectangle(img, (cx - w // 2, cy - h), (cx + w // 2, cy - h + max(2, h // 5)), (50, 40, 30), -1)
    box = [float(cx - w), float(cy - h), float(cx + w), float(cy + h)]
    return img, box, [[float(x), float(y)] for x, y in lm]


def _jpeg(rgb: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 90])
    assert ok
    return buf.tobytes()


def generate(*, people: int = 36, photos_per_person: int = 3, size: int = 96, seed: int = 0) -> dict[str, bytes]:
    """{relative path: bytes} of a snapshot: splits by person (70/15/15), metadata.jsonl per split,
    112 px aligned crops. Groups: gender x ethnicity (white, black, east_asian), cycled."""
    rng = np.random.default_rng(seed)
    eths = list(SKIN)
    files: dict[str, bytes] = {}
    rows: dict[str, list[dict[str, Any]]] = {"train": [], "validation": [], "test": []}
    for i in range(people):
        gender, eth = GENDERS[i % 2], eths[(i // 2) % len(eths)]
        frac = (i % 20) / 20
        split = "train" if frac < 0.7 else "validation" if frac < 0.85 else "test"
        person = {"gender": gender, "skin": tuple(int(c) for c in np.clip(np.array(SKIN[eth]) + rng.normal(0, 8, 3), 0, 255)),
                  "aspect": float(rng.uniform(1.1, 1.5)), "eyes": float(rng.uniform(0.25, 0.5)),
                  "mouth": tuple(int(c) for c in rng.integers(60, 200, 3))}
        for k in range(photos_per_person):
            img, box, lm = _draw(rng, person, size)
            data = _jpeg(img)
            sha = hashlib.sha256(data).hexdigest()
            files[f"{split}/{sha}.jpg"] = data
            files[f"crops/112/{sha}.jpg"] = _jpeg(align_face(img, np.array(lm), 112))
            rows[split].append({"file_name": f"{sha}.jpg", "subject_id": f"s{i:03d}", "gender": gender,
                                "ethnicity": [eth], "age_range": ["25_34", "35_44"][k % 2], "skin_tone": "",
                                "low_light": False, "enhanced": False, "has_face": True, "face_box": box,
                                "face_landmarks": lm, "face_score": 0.99, "crop_112": f"crops/112/{sha}.jpg",
                                "crop_224": "", "sha256": sha, "width": size, "height": size})
    for split, rs in rows.items():
        if rs:
            files[f"{split}/metadata.jsonl"] = "\n".join(json.dumps(r) for r in rs).encode() + b"\n"
    return files


def write_folder(root: Path, **kwargs: Any) -> Path:
    """Write the generated snapshot under ``root/facecommons``; returns that folder."""
    out = Path(root) / ARCHIVE_ROOT
    for rel, data in generate(**kwargs).items():
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_bytes(data)
    return out


def archive_bytes(**kwargs: Any) -> bytes:
    """The generated snapshot as an uncompressed tar, as the platform publishes it."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for rel, data in sorted(generate(**kwargs).items()):
            ti = tarfile.TarInfo(f"{ARCHIVE_ROOT}/{rel}")
            ti.size = len(data)
            tar.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


