"""Reading labelled external collections and mapping their labels onto the taxonomy.

Each reader yields ``Record(path, name, subject, categories)`` or ``Skip(name, reason)``; the
service stores the images. Mappings (documented in docs/evaluation.md):

UTKFace (``age_gender_race_date.jpg``): gender 0 → man, 1 → woman; race 0 White → white,
1 Black → black, 2 Asian → east_asian (an approximation: UTKFace's "Asian" covers East and
Southeast Asia and cannot be split), 3 Indian → south_asian, 4 Others → prefer_not_to_say (a
residual class, not an identity: kept so counts add up). Age → the taxonomy's age ranges;
under 18 is skipped and counted (the platform holds adults only).

FairFace (CSV ``file,age,gender,race``): gender Male/Female → man/woman; race White, Black,
Latino_Hispanic, East Asian, Southeast Asian, Indian, Middle Eastern → white, black,
hispanic_latino, east_asian, southeast_asian, south_asian, mena. Its age bins are decades
(20-29, 30-39, ...) and every one of them straddles two of the taxonomy's ranges, so
``age_range`` is left empty except "more than 70" → 65_plus; the source bin is kept as
``source_age``. Bins 0-2, 3-9 and 10-19 are skipped (minors, or not known to be adults).

Generic CSV (``file,subject,age_range,gender,ethnicity,skin_tone``): values are taxonomy keys
(``ethnicity`` may list several, separated by ``;``); ``age_range`` may also be an age in
years; ``subject`` is the person's id (photos with the same subject form genuine pairs).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".bmp"}


@dataclass
class Record:
    path: Path
    name: str
    subject: str = ""
    categories: dict[str, Any] = field(default_factory=dict)


@dataclass
class Skip:
    name: str
    reason: str
    detail: str = ""


def age_to_range(age: int) -> str | None:
    """Years → taxonomy age range; None under 18."""
    if age < 18:
        return None
    for hi, key in ((24, "18_24"), (34, "25_34"), (44, "35_44"), (54, "45_54"), (64, "55_64")):
        if age <= hi:
            return key
    return "65_plus"


UTK_GENDER = {"0": "man", "1": "woman"}
UTK_RACE = {"0": "white", "1": "black", "2": "east_asian", "3": "south_asian", "4": "prefer_not_to_say"}
UTK_NAME = re.compile(r"^(\d{1,3})_([01])_([0-4])_(\d+)")


def parse_utkface_name(name: str) -> dict[str, Any] | Skip:
    m = UTK_NAME.match(name)
    if not m:
        return Skip(name, "malformed_name", "expected age_gender_race_date.jpg")
    age, gender, race, _ = m.groups()
    rng = age_to_range(int(age))
    if rng is None:
        return Skip(name, "under_18")
    return {"age_range": rng, "gender": UTK_GENDER[gender], "ethnicity": [UTK_RACE[race]]}


def read_utkface(folder: Path) -> Iterator[Record | Skip]:
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        if path.suffix.lower() not in IMAGE_SUFFIXES:
            continue
        parsed = parse_utkface_name(path.name)
        if isinstance(parsed, Skip):
            yield parsed
        else:
            yield Record(path=path, name=str(path.relative_to(folder)), categories=parsed)


FAIRFACE_GENDER = {"male": "man", "female": "woman"}
FAIRFACE_RACE = {
    "white": "white", "black": "black", "latino_hispanic": "hispanic_latino", "east asian": "east_asian",
    "southeast asian": "southeast_asian", "indian": "south_asian", "middle eastern": "mena",
}
FAIRFACE_MINOR_BINS = {"0-2", "3-9", "10-19"}
FAIRFACE_AGE = {"more than 70": "65_plus"}


def _inside(base: Path, rel: str) -> Path | None:
    """``base/rel`` if it stays inside ``base`` (a CSV must not reach files elsewhere)."""
    try:
        path = (base / rel).resolve()
        path.relative_to(base.resolve())
    except (ValueError, OSError):
        return None
    return path


def _csv_rows(csv_path: Path) -> Iterator[dict[str, str]]:
    with csv_path.open(newline="", encoding="utf-8-sig") as fh:
        for row in csv.DictReader(fh):
            yield {(k or "").strip().lower(): (v or "").strip() for k, v in row.items()}


def read_fairface(csv_path: Path) -> Iterator[Record | Skip]:
    base = csv_path.parent
    for row in _csv_rows(csv_path):
        name = row.get("file", "")
        if not name:
            yield Skip("(empty)", "missing_file_column")
            continue
        age = row.get("age", "").lower()
        if age in FAIRFACE_MINOR_BINS:
            yield Skip(name, "under_18")
            continue
        gender = FAIRFACE_GENDER.get(row.get("gender", "").lower())
        race = FAIRFACE_RACE.get(row.get("race", "").lower().replace("_", " ").replace("latino hispanic", "latino_hispanic"))
        if gender is None or race is None:
            yield Skip(name, "unknown_label", f"gender={row.get('gender')!r} race={row.get('race')!r}")
            continue
        path = _inside(base, name)
        if path is None:
            yield Skip(name, "outside_folder")
            continue
        cats: dict[str, Any] = {"gender": gender, "ethnicity": [race], "source_age": age}
        if age in FAIRFACE_AGE:
            cats["age_range"] = FAIRFACE_AGE[age]
        yield Record(path=path, name=name, categories=cats)


def read_generic_csv(csv_path: Path, allowed: dict[str, set[str]]) -> Iterator[Record | Skip]:
    """``allowed``: taxonomy category key → its value keys (the current taxonomy)."""
    base = csv_path.parent
    for row in _csv_rows(csv_path):
        name = row.get("file", "")
        if not name:
            yield Skip("(empty)", "missing_file_column")
            continue
        cats: dict[str, Any] = {}
        bad = ""
        for key in ("age_range", "gender", "ethnicity", "skin_tone"):
            raw = row.get(key, "")
            if not raw:
                continue
            if key == "age_range" and raw.isdigit():
                rng = age_to_range(int(raw))
                if rng is None:
                    bad = "under_18"
                    break
                raw = rng
            values = [v.strip() for v in raw.split(";") if v.strip()] if key == "ethnicity" else [raw]
            unknown = [v for v in values if v not in allowed.get(key, set())]
            if unknown:
                bad = f"unknown_label:{key}={unknown[0][:40]}"
                break
            cats[key] = values if key == "ethnicity" else values[0]
        if bad:
            reason, _, detail = bad.partition(":")
            yield Skip(name, reason, detail)
            continue
        path = _inside(base, name)
        if path is None:
            yield Skip(name, "outside_folder")
            continue
        yield Record(path=path, name=name, subject=row.get("subject", "")[:120], categories=cats)
