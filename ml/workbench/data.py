"""Reading a dataset snapshot as published (``facecommons/<split>/metadata.jsonl``, images and
aligned crops), sampling a training set by policy, and cutting the arrays the tasks train on.

A snapshot is read from its unpacked folder or straight from the (uncompressed) archive, so the
platform's worker and a researcher's script load it the same way. Never imports Django.
"""

from __future__ import annotations

import json
import random
import tarfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import cv2
import numpy as np

from ml.align import align_face
from ml.metrics.groups import GroupSpec, group_values

SPLITS = ("train", "validation", "test")
ARCHIVE_ROOT = "facecommons"
#: metadata.jsonl columns that are not taxonomy categories.
NON_CATEGORY = frozenset({"file_name", "subject_id", "low_light", "enhanced", "has_face", "face_box", "face_landmarks",
                          "face_score", "crop_112", "crop_224", "sha256", "width", "height", "split"})


class SnapshotError(ValueError):
    """The snapshot cannot be used as asked (unreadable, splits not person-disjoint, no data)."""


@dataclass(frozen=True)
class Photo:
    """One photo of a snapshot: where its files are, its person, labels and validated face."""

    path: str  # relative to the snapshot root, e.g. "train/<sha256>.jpg"
    split: str
    subject: str
    sha256: str
    labels: dict[str, Any]
    box: tuple[float, float, float, float] | None
    landmarks: tuple[tuple[float, float], ...] | None
    crop: str = ""  # relative path of the 112 px aligned crop, "" when the snapshot has none

    def groups(self, category: str) -> list[str]:
        """The values of ``category`` (or of an intersection ``a&b``) this photo belongs to."""
        return group_values(self.labels, GroupSpec(tuple(category.split("&"))))


class _Reader:
    def read(self, rel: str) -> bytes:
        raise NotImplementedError

    def close(self) -> None:
        return None


class _FolderReader(_Reader):
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def read(self, rel: str) -> bytes:
        path = (self.root / rel).resolve()
        if self.root not in path.parents:
            raise SnapshotError(f"{rel!r} points outside the snapshot")
        return path.read_bytes()


class _TarReader(_Reader):
    def __init__(self, fileobj: Any) -> None:
        self.tar = tarfile.open(fileobj=fileobj, mode="r:")  # noqa: SIM115 - closed by close()
        self.members = {m.name: m for m in self.tar.getmembers() if m.isfile()}

    def read(self, rel: str) -> bytes:
        member = self.members.get(f"{ARCHIVE_ROOT}/{rel}")
        if member is None:
            raise SnapshotError(f"{rel} is not in the archive")
        fh = self.tar.extractfile(member)
        assert fh is not None
        return fh.read()

    def close(self) -> None:
        self.tar.close()


class _FuncReader(_Reader):
    """Files served by a function (the platform's content-addressed store: path -> blob)."""

    def __init__(self, read: Callable[[str], bytes]) -> None:
        self._read = read

    def read(self, rel: str) -> bytes:
        return self._read(rel)


@dataclass
class Snapshot:
    photos: list[Photo]
    categories: list[str]
    reader: _Reader = field(repr=False)

    def split(self, name: str) -> list[Photo]:
        return [p for p in self.photos if p.split == name]

    def read(self, rel: str) -> bytes:
        return self.reader.read(rel)

    def close(self) -> None:
        self.reader.close()


def _photo(row: dict[str, Any], split: str) -> Photo:
    has_face = bool(row.get("has_face", row.get("face_box") not in (None, "")))
    box = tuple(float(v) for v in row["face_box"]) if has_face and row.get("face_box") else None
    lms = row.get("face_landmarks") if has_face else None
    landmarks = tuple((float(x), float(y)) for x, y in lms) if lms and len(lms) == 5 and lms[0][0] >= 0 else None
    labels = {k: v for k, v in row.items() if k not in NON_CATEGORY and v not in ("", [], None)}
    return Photo(path=f"{split}/{row['file_name']}", split=split, subject=str(row["subject_id"]),
                 sha256=str(row.get("sha256") or Path(row["file_name"]).stem), labels=labels,
                 box=box if box and box[2] > box[0] and box[3] > box[1] else None,  # type: ignore[arg-type]
                 landmarks=landmarks, crop=str(row.get("crop_112") or ""))


def load_snapshot(source: str | Path | Any) -> Snapshot:
    """A snapshot from its unpacked ``facecommons`` folder, a ``.tar`` path, an open binary file
    of the archive, or a function returning the bytes of a path inside the snapshot (raising
    ``SnapshotError`` for a path it does not hold). Raises ``SnapshotError`` when it is
    unreadable or its splits share a person."""
    reader: _Reader
    if callable(source) and not hasattr(source, "read"):
        reader = _FuncReader(source)
    elif hasattr(source, "read"):
        reader = _TarReader(source)
    else:
        path = Path(source)
        if path.is_file():
            reader = _TarReader(path.open("rb"))
        elif (path / ARCHIVE_ROOT).is_dir() and not (path / "train").is_dir():
            reader = _FolderReader(path / ARCHIVE_ROOT)
        elif path.is_dir():
            reader = _FolderReader(path)
        else:
            raise SnapshotError(f"{path} is neither a snapshot folder nor an archive")
    photos: list[Photo] = []
    categories: set[str] = set()
    for split in SPLITS:
        try:
            text = reader.read(f"{split}/metadata.jsonl").decode("utf-8")
        except (OSError, SnapshotError):
            continue  # a split with no photos has no metadata file
        for n, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                photos.append(_photo(row, split))
            except (ValueError, KeyError, TypeError) as exc:
                reader.close()
                raise SnapshotError(f"{split}/metadata.jsonl line {n}: {exc}") from exc
            categories.update(k for k in row if k not in NON_CATEGORY)
    if not photos:
        reader.close()
        raise SnapshotError("the snapshot holds no photos")
    seen: dict[str, str] = {}
    for p in photos:
        if seen.setdefault(p.subject, p.split) != p.split:
            reader.close()
            raise SnapshotError(f"subject {p.subject} is in two splits ({seen[p.subject]}, {p.split}): "
                                "the splits must be person-disjoint")
    return Snapshot(photos=photos, categories=sorted(categories), reader=reader)


# --- sampling policies -------------------------------------------------------------------------

PolicyKind = Literal["as_is", "balanced", "skewed"]


@dataclass(frozen=True)
class Policy:
    """How the training (and validation) photos are drawn from a split.

    ``as_is``: every photo. ``balanced``: the same number of photos from each value of
    ``category`` (an intersection such as ``gender&ethnicity`` balances its cells). ``skewed``:
    only photos in one of ``values`` of ``category`` (``man``, or ``gender=man&ethnicity=white``).
    ``max_photos`` caps the result (a seeded draw), so two policies can be compared at equal size."""

    kind: PolicyKind = "as_is"
    category: str = ""
    values: tuple[str, ...] = ()
    max_photos: int | None = None

    def __post_init__(self) -> None:
        if self.kind not in ("as_is", "balanced", "skewed"):
            raise ValueError(f"unknown policy {self.kind!r}: use as_is, balanced or skewed")
        if self.kind != "as_is" and not self.category:
            raise ValueError(f"the {self.kind} policy needs a category")
        if self.kind == "skewed" and not self.values:
            raise ValueError("the skewed policy needs the values to keep")

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "category": self.category, "values": list(self.values),
                "max_photos": self.max_photos}


def sample(photos: Sequence[Photo], policy: Policy, *, seed: int) -> list[Photo]:
    """The photos ``policy`` keeps, in a stable order for a given seed."""
    rng = random.Random(seed)
    pool = sorted(photos, key=lambda p: p.path)
    if policy.kind == "skewed":
        keep = set(policy.values)
        pool = [p for p in pool if keep.intersection(p.groups(policy.category))]
    elif policy.kind == "balanced":
        by_group: dict[str, list[Photo]] = {}
        for p in pool:
            for g in p.groups(policy.category):
                by_group.setdefault(g, []).append(p)
        if not by_group:
            return []
        per = min(len(v) for v in by_group.values())
        if policy.max_photos:
            per = min(per, max(1, policy.max_photos // len(by_group)))
        chosen: dict[str, Photo] = {}
        for g in sorted(by_group):
            members = [p for p in by_group[g] if p.path not in chosen]
            rng.shuffle(members)
            for p in members[:per]:
                chosen[p.path] = p
        pool = sorted(chosen.values(), key=lambda p: p.path)
    if policy.max_photos and len(pool) > policy.max_photos:
        pool = sorted(rng.sample(pool, policy.max_photos), key=lambda p: p.path)
    return pool


# --- arrays ------------------------------------------------------------------------------------

def decode_rgb(data: bytes) -> np.ndarray:
    bgr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if bgr is None:
        raise SnapshotError("an image of the snapshot cannot be decoded")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def square_around(box: Sequence[float], scale: float = 1.0) -> tuple[int, int, int]:
    """(x, y, side) of the square centred on ``box`` whose side is ``scale`` x its longer side."""
    x1, y1, x2, y2 = (float(v) for v in box)
    side = max(x2 - x1, y2 - y1) * scale
    return int(round((x1 + x2 - side) / 2)), int(round((y1 + y2 - side) / 2)), max(1, int(round(side)))


def cut(image: np.ndarray, x: int, y: int, side: int, size: int) -> np.ndarray:
    """The square (x, y, side) of ``image`` resized to ``size``; edges are replicated outside it."""
    h, w = image.shape[:2]
    pad = max(0, -x, -y, x + side - w, y + side - h)
    if pad:
        image = cv2.copyMakeBorder(image, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
        x, y = x + pad, y + pad
    patch = image[y:y + side, x:x + side]
    return cv2.resize(patch, (size, size), interpolation=cv2.INTER_AREA if side > size else cv2.INTER_LINEAR)


def overlap_share(a: tuple[int, int, int], box: Sequence[float]) -> float:
    """Share of square ``a`` (x, y, side) covered by ``box``."""
    x, y, s = a
    iw = max(0.0, min(x + s, box[2]) - max(x, box[0]))
    ih = max(0.0, min(y + s, box[3]) - max(y, box[1]))
    return iw * ih / float(s * s)


def background_squares(width: int, height: int, box: Sequence[float], *, count: int, rng: np.random.Generator,
                       max_overlap: float = 0.1, tries: int = 60) -> list[tuple[int, int, int]]:
    """Up to ``count`` squares inside the photo that the face box covers by at most ``max_overlap``.

    Sides are drawn from 0.3 to 1 x the face's size (and at least 16 px), so the patches look
    like what a detector window sees around a face of that size."""
    _, _, face_side = square_around(box)
    out: list[tuple[int, int, int]] = []
    for _ in range(tries):
        if len(out) >= count:
            break
        side = int(max(16, min(width, height, face_side * rng.uniform(0.3, 1.0))))
        if side > min(width, height):
            continue
        sq = (int(rng.integers(0, width - side + 1)), int(rng.integers(0, height - side + 1)), side)
        if overlap_share(sq, box) <= max_overlap:
            out.append(sq)
    return out


def face_crop(snapshot: Snapshot, photo: Photo, size: int, image: np.ndarray | None = None) -> np.ndarray | None:
    """The aligned face crop at ``size`` px: the snapshot's own 112 px crop when it has one, else
    aligned here from the landmarks, else the square around the face box. None without a face."""
    if photo.crop:
        crop = decode_rgb(snapshot.read(photo.crop))
        return cv2.resize(crop, (size, size), interpolation=cv2.INTER_AREA)
    if photo.box is None:
        return None
    if image is None:
        image = decode_rgb(snapshot.read(photo.path))
    if photo.landmarks is not None:
        return align_face(image, np.asarray(photo.landmarks), size)
    return cut(image, *square_around(photo.box, 1.2), size)


def to_tensor_layout(images: Iterable[np.ndarray]) -> np.ndarray:
    """(N, 3, H, W) float32 in [0, 1] from RGB uint8 arrays."""
    arr = np.stack(list(images)).astype(np.float32) / 255.0
    return np.ascontiguousarray(arr.transpose(0, 3, 1, 2))


ProgressFn = Callable[[str, int, int], None]
