"""One photo's metadata, as it goes into metadata.jsonl, metadata.parquet and the entry row."""

from __future__ import annotations

from typing import Any

import pyarrow as pa

NO_FACE_BOX = [-1.0, -1.0, -1.0, -1.0]
NO_FACE_LANDMARKS = [[-1.0, -1.0]] * 5
# The flags a subset can be filtered on besides the categories.
FLAGS = ("low_light", "enhanced", "has_face")


def parquet_schema(schema: list[tuple[str, bool]]) -> Any:
    fields = [pa.field("file_name", pa.string()), pa.field("split", pa.string()),
              pa.field("subject_id", pa.string())]
    for key, multiple in schema:
        fields.append(pa.field(key, pa.list_(pa.string()) if multiple else pa.string()))
    fields += [pa.field("low_light", pa.bool_()), pa.field("enhanced", pa.bool_()),
               pa.field("face_box", pa.list_(pa.float64())), pa.field("face_landmarks", pa.list_(pa.list_(pa.float64()))),
               pa.field("face_score", pa.float64()), pa.field("detector_missed", pa.bool_()),
               pa.field("crop_112", pa.string()), pa.field("crop_224", pa.string()),
               pa.field("sha256", pa.string()), pa.field("width", pa.int32()), pa.field("height", pa.int32()),
               pa.field("corrected", pa.bool_()), pa.field("enhancement_model", pa.string()),
               pa.field("detector", pa.string())]
    return pa.schema(fields)


def _norm(value: Any, multiple: bool) -> Any:
    if multiple:
        if value is None or value == "":
            return []
        return [str(v) for v in (value if isinstance(value, list) else [value])]
    if isinstance(value, list):
        return str(value[0]) if value else None
    return None if value is None or value == "" else str(value)


def metadata_row(*, r: dict[str, Any], files: dict[str, tuple[str, str, int]], subject_id: str, split: str,
                 schema: list[tuple[str, bool]]) -> dict[str, Any]:
    """One photo's metadata from a row of ``selection.ROW_FIELDS`` (analysis fields None when absent)."""
    cats = {**(r["categories"] or {}), **(r["corrected_categories"] or {})}
    face = r.get("analysis__face") or {}
    box = face.get("box")
    landmarks = face.get("landmarks")
    lowlight = r.get("analysis__lowlight") or {}
    row: dict[str, Any] = {"file_name": f"{r['sha256']}.jpg", "split": split, "subject_id": subject_id}
    for key, multiple in schema:
        row[key] = _norm(cats.get(key), multiple)
    row.update({
        "low_light": bool(lowlight.get("is_low_light", False)),
        "enhanced": bool(r.get("analysis__enhanced")),
        "face_box": [float(v) for v in box] if box else None,
        "face_landmarks": [[float(x), float(y)] for x, y in landmarks] if landmarks else None,
        "face_score": float(face["score"]) if face.get("score") is not None else None,
        # issue 13: the reference detector found no face and a moderator marked it.
        "detector_missed": bool(r.get("analysis__detector_missed")),
        "crop_112": f"crops/112/{files['crop'][1]}.jpg" if "crop" in files else None,
        "crop_224": f"crops/224/{files['crop224'][1]}.jpg" if "crop224" in files else None,
        "sha256": r["sha256"], "width": int(r["width"]), "height": int(r["height"]),
        # Provenance: corrected by a moderator; which model enhanced it, which detector found the face.
        "corrected": bool(r["corrected_categories"]),
        "enhancement_model": _tool(r.get("analysis__enhancer_id"), r.get("analysis__enhancer_version"))
        if r.get("analysis__enhanced") else None,
        "detector": _tool(r.get("analysis__detector_id"), r.get("analysis__detector_version")),
    })
    return row


def _tool(name: Any, version: Any) -> str | None:
    if not name:
        return None
    return f"{name}@{version}" if version else str(name)


def jsonl_row(row: dict[str, Any]) -> dict[str, Any]:
    """The row for a split's metadata.jsonl, with no JSON nulls.

    ``datasets`` infers each split's features from its metadata file and refuses splits whose
    features differ; a column that is null throughout one split (say, no face box in a small
    test split) would be typed ``null`` there. So missing values are typed sentinels: "" for
    text, [] for lists, -1 for the face box, landmarks and score (``has_face`` tells which).
    metadata.parquet keeps real nulls under an explicit schema.
    """
    out: dict[str, Any] = {}
    for key, value in row.items():
        if key == "split":
            continue
        out[key] = "" if value is None else value
    out["has_face"] = row.get("face_box") is not None
    if row.get("face_box") is None:
        out["face_box"] = NO_FACE_BOX
    if row.get("face_landmarks") is None:
        out["face_landmarks"] = NO_FACE_LANDMARKS
    if row.get("face_score") is None:
        out["face_score"] = -1.0
    return out


def attributes_of(row: dict[str, Any], schema: list[tuple[str, bool]]) -> dict[str, Any]:
    """What a filtered subset selects on: every category (as a list of values) and the flags."""
    out: dict[str, Any] = {}
    for key, _ in schema:
        v = row.get(key)
        out[key] = v if isinstance(v, list) else ([v] if v else [])
    out["low_light"] = bool(row.get("low_light"))
    out["enhanced"] = bool(row.get("enhanced"))
    out["has_face"] = row.get("face_box") is not None
    # A face the detector missed and people found (issue 13's flag, when the row carries it).
    out["detector_missed"] = bool(row.get("detector_missed"))
    return out
