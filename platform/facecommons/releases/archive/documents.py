"""The documents shipped in a snapshot: croissant.json, DATASHEET.md, LICENSE, CHANGELOG.md.

Counts below ``STATS_MIN_COUNT`` are written as "fewer than k" so nobody is singled out.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import IO, Any

from django.conf import settings

from facecommons.common.conf import setting
from facecommons.releases.models import Snapshot, SnapshotEntry

# The main intersections reported in the datasheet and on the statistics page.
INTERSECTIONS: list[tuple[str, str]] = [("gender", "skin_tone"), ("age_range", "gender"), ("ethnicity", "skin_tone")]
UNDECLARED = "prefer_not_to_say"


def _values(v: Any) -> list[str]:
    if v is None or v == "":
        return []
    return [str(x) for x in v] if isinstance(v, list) else [str(v)]


@dataclass
class Composition:
    """Counters of photos (and people) per category value and main intersection."""

    schema: list[tuple[str, bool]]
    k: int
    photos: int = 0
    per_split: Counter[str] = field(default_factory=Counter)
    subjects_per_split: dict[str, set[str]] = field(default_factory=dict)
    values: dict[str, Counter[str]] = field(default_factory=dict)
    pairs: dict[str, Counter[tuple[str, str]]] = field(default_factory=dict)
    enhanced: int = 0
    with_face: int = 0

    def add(self, row: dict[str, Any], split: str) -> None:
        self.photos += 1
        self.per_split[split] += 1
        # One set entry per person (not per photo): bounded by the number of people.
        self.subjects_per_split.setdefault(split, set()).add(row["subject_id"])
        for key, _ in self.schema:
            vals = _values(row.get(key)) or ["(missing)"]
            c = self.values.setdefault(key, Counter())
            for v in vals:
                c[v] += 1
        for a, b in INTERSECTIONS:
            c2 = self.pairs.setdefault(f"{a}×{b}", Counter())
            for va in _values(row.get(a)) or ["(missing)"]:
                for vb in _values(row.get(b)) or ["(missing)"]:
                    c2[(va, vb)] += 1
        self.enhanced += bool(row.get("enhanced"))
        self.with_face += bool(row.get("face_box"))

    def counts(self) -> dict[str, Any]:
        subjects = set().union(*self.subjects_per_split.values()) if self.subjects_per_split else set()
        return {
            "photos": self.photos, "subjects": len(subjects), "enhanced": self.enhanced, "with_face": self.with_face,
            "splits": {s: {"photos": self.per_split.get(s, 0), "subjects": len(self.subjects_per_split.get(s, ()))}
                       for s in ("train", "validation", "test")},
            "categories": {key: {v: suppress(n, self.k) for v, n in sorted(c.items())} for key, c in self.values.items()},
            "intersections": {name: {f"{a}|{b}": suppress(n, self.k) for (a, b), n in sorted(c2.items())}
                              for name, c2 in self.pairs.items()},
            "min_count": self.k,
        }

    def fmt(self, n: int) -> str:
        return fmt_count(n, self.k)


def suppress(n: int, k: int) -> int | None:
    return None if 0 < n < k else n


def fmt_count(n: int, k: int) -> str:
    return f"fewer than {k}" if 0 < n < k else str(n)


@dataclass
class DocumentContext:
    snapshot: Snapshot
    counts: dict[str, Any]
    composition: Composition
    schema: list[tuple[str, bool]]
    parquet_sha256: str
    parquet_size: int


def _site() -> str:
    return str(setting("SITE_URL", "http://localhost:8000"))


def croissant(ctx: DocumentContext) -> str:
    """MLCommons Croissant 1.0 with the responsible-AI (RAI) vocabulary."""
    snap = ctx.snapshot
    rs = "photos"
    fields: list[dict[str, Any]] = []

    def add_field(name: str, dtype: str, description: str) -> None:
        fields.append({"@type": "cr:Field", "@id": f"{rs}/{name}", "name": name, "description": description,
                       "dataType": dtype,
                       "source": {"fileObject": {"@id": "metadata.parquet"}, "extract": {"column": name}}})

    add_field("file_name", "sc:Text", "Path of the photo inside the snapshot (split/sha256.jpg).")
    add_field("split", "sc:Text", "train, validation or test (person-disjoint).")
    add_field("subject_id", "sc:Text", "Random pseudonymous identifier of the person; stable across snapshots.")
    for key, multiple in ctx.schema:
        if not multiple:
            add_field(key, "sc:Text", f"Self-declared {key.replace('_', ' ')} (with moderator corrections).")
    add_field("low_light", "sc:Boolean", "Whether the photo was assessed as low light.")
    add_field("enhanced", "sc:Boolean", "Whether a low-light enhanced copy was used for face detection.")
    add_field("sha256", "sc:Text", "SHA-256 of the image bytes.")
    add_field("width", "sc:Integer", "Image width in pixels.")
    add_field("height", "sc:Integer", "Image height in pixels.")
    multi = [key for key, m in ctx.schema if m]
    doc = {
        "@context": {
            "@language": "en", "@vocab": "https://schema.org/", "sc": "https://schema.org/",
            "cr": "http://mlcommons.org/croissant/", "rai": "http://mlcommons.org/croissant/RAI/",
            "dct": "http://purl.org/dc/terms/", "citeAs": "cr:citeAs", "column": "cr:column",
            "conformsTo": "dct:conformsTo", "data": {"@id": "cr:data", "@type": "@json"},
            "dataType": {"@id": "cr:dataType", "@type": "@vocab"}, "examples": {"@id": "cr:examples", "@type": "@json"},
            "extract": "cr:extract", "field": "cr:field", "fileProperty": "cr:fileProperty",
            "fileObject": "cr:fileObject", "fileSet": "cr:fileSet", "format": "cr:format", "includes": "cr:includes",
            "isLiveDataset": "cr:isLiveDataset", "jsonPath": "cr:jsonPath", "key": "cr:key", "md5": "cr:md5",
            "parentField": "cr:parentField", "path": "cr:path", "recordSet": "cr:recordSet",
            "references": "cr:references", "regex": "cr:regex", "repeated": "cr:repeated", "replace": "cr:replace",
            "separator": "cr:separator", "source": "cr:source", "subField": "cr:subField", "transform": "cr:transform",
        },
        "@type": "sc:Dataset",
        "name": f"facecommons-{snap.version}",
        "conformsTo": "http://mlcommons.org/croissant/1.0",
        "description": (f"{settings.SITE_NAME} snapshot {snap.version}: consented face photos with self-declared "
                        f"demographic categories, person-disjoint train/validation/test splits, aligned face crops. "
                        f"Multi-valued categories ({', '.join(multi) or 'none'}) are lists in metadata.parquet."),
        "url": f"{_site()}/snapshots/",
        "version": snap.version,
        "datePublished": snap.cutoff_at.date().isoformat(),
        "license": setting("RELEASES_LICENSE_URL", f"{_site()}/research/"),
        "citeAs": f"{settings.SITE_NAME} contributors. {settings.SITE_NAME} dataset, snapshot {snap.version}. "
                  f"{snap.cutoff_at:%Y}.",
        "creator": {"@type": "sc:Organization", "name": settings.SITE_NAME, "url": _site()},
        "keywords": ["face", "fairness", "bias evaluation", "consent", "demographics"],
        "isLiveDataset": False,
        "rai:dataCollection": ("Photos uploaded by adult contributors who accepted the consent text, each with "
                               "self-declared categories. Every photo was checked by an automatic pipeline (one "
                               "face, sharpness, lighting) and approved by human moderators."),
        "rai:dataCollectionType": ["Crowdsourced", "Self-reported"],
        "rai:dataCollectionRawData": "Normalised originals: upright, sRGB, all EXIF/GPS metadata removed.",
        "rai:dataPreprocessingProtocol": ("Originals normalised on upload; low-light photos enhanced only for face "
                                          "detection; aligned 112 and 224 pixel crops from five landmarks."),
        "rai:dataAnnotationProtocol": ("Categories are self-declared by the person in the photo; moderators may "
                                       "correct obvious errors, and corrected values are used."),
        "rai:dataBiases": ("Contributors are volunteers; groups are unevenly represented (see DATASHEET.md for the "
                           "counts). Self-declared categories follow one taxonomy and may not fit everyone."),
        "rai:dataLimitations": ("Not suitable for identifying people. Small groups have few photos; splits are "
                                "person-disjoint but not balanced within every small intersection."),
        "rai:personalSensitiveInformation": ("Face images are biometric data; categories include ethnicity and "
                                             "gender. Pseudonymous subject ids only. Withdrawn contributors are "
                                             "listed in withdrawn.csv and their files must be deleted."),
        "rai:dataUseCases": "Measuring and reducing demographic bias of face detection and verification models.",
        "rai:dataSocialImpact": ("Intended to make face models fail less for under-represented groups; misuse for "
                                 "surveillance or identification is forbidden by the data-use agreement."),
        "rai:dataReleaseMaintenancePlan": ("New versioned snapshots are published periodically; withdrawals after "
                                           "publication are announced in each snapshot's withdrawn.csv."),
        "distribution": [{
            "@type": "cr:FileObject", "@id": "metadata.parquet", "name": "metadata.parquet",
            "contentUrl": "metadata.parquet", "encodingFormat": "application/x-parquet",
            "contentSize": f"{ctx.parquet_size} B", "sha256": ctx.parquet_sha256,
        }],
        "recordSet": [{"@type": "cr:RecordSet", "@id": rs, "name": rs,
                       "description": "One record per photo.", "field": fields}],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def _table(rows: list[tuple[str, str]], head: tuple[str, str]) -> str:
    out = [f"| {head[0]} | {head[1]} |", "|---|---:|"]
    out += [f"| {a} | {b} |" for a, b in rows]
    return "\n".join(out)


def datasheet(ctx: DocumentContext) -> str:
    """Datasheets for Datasets (Gebru et al.): the sections, with computed counts."""
    snap, comp, counts = ctx.snapshot, ctx.composition, ctx.counts
    k = comp.k
    lines = [
        f"# Datasheet: {settings.SITE_NAME} snapshot {snap.version}", "",
        f"Cut-off: {snap.cutoff_at:%Y-%m-%d %H:%M} UTC. Counts below {k} are shown as \"fewer than {k}\" so that "
        "nobody is singled out.", "",
        "## Motivation", "",
        "Face models fail more often for people who are under-represented in their training and test data. This "
        "dataset collects consented face photos with self-declared demographic categories so that researchers can "
        "measure and reduce those failures. It is created and maintained by the "
        f"{settings.SITE_NAME} project and its contributors.", "",
        "## Composition", "",
        f"- Photos: {comp.fmt(comp.photos)}; people (subject ids): {comp.fmt(counts['subjects'])}.",
        f"- Photos with a detected face box and landmarks: {comp.fmt(comp.with_face)}; "
        f"with low-light enhancement used: {comp.fmt(comp.enhanced)}.",
        "- Splits (person-disjoint: nobody appears in two):",
    ]
    for s in ("train", "validation", "test"):
        sp = counts["splits"][s]
        lines.append(f"  - {s}: {comp.fmt(sp['photos'])} photos of {comp.fmt(sp['subjects'])} people")
    lines += ["", "Each instance is one photo of one adult person with the categories that person declared. "
              "Multi-valued categories count a photo once per value.", ""]
    for key, _ in ctx.schema:
        c = comp.values.get(key, Counter())
        lines += [f"### {key.replace('_', ' ').capitalize()}", "",
                  _table([(v, comp.fmt(n)) for v, n in sorted(c.items())], ("value", "photos")), ""]
        undeclared = c.get(UNDECLARED, 0)
        if comp.photos and key != "lighting":
            lines += [f"Left undeclared (prefer not to say): {comp.fmt(undeclared)} photos.", ""]
    lines += ["### Main intersections", ""]
    for name, pair_counts in comp.pairs.items():
        lines += [f"#### {name.replace('_', ' ')}", "",
                  _table([(f"{a} × {b}", comp.fmt(n)) for (a, b), n in sorted(pair_counts.items())],
                         ("values", "photos")), ""]
    lines += [
        "## Collection process", "",
        "Adults uploaded photos of themselves through the website after accepting the versioned consent text, and "
        "declared their categories. An automatic pipeline normalised each upload, checked that it shows exactly one "
        "sharp face, and enhanced low-light photos for detection. Human moderators reviewed every photo and its "
        "categories; only approved photos whose contributor's consent was in force at the cut-off are included.", "",
        "## Preprocessing, cleaning, labelling", "",
        "Originals are stored upright in sRGB with all metadata (EXIF, GPS) removed, and included byte for byte. "
        "Aligned face crops (112 and 224 pixels, from five landmarks) are in `crops/`. Labels are self-declared, "
        "with moderator corrections applied. Self-described free text is not released.", "",
        "## Uses", "",
        "Intended: measuring and improving the demographic fairness of face detection and verification. Forbidden "
        "by the data-use agreement: identifying or re-identifying people, surveillance, inferring categories of "
        "people outside the dataset for decisions about them, and redistribution.", "",
        "## Distribution", "",
        "Approved researchers who accepted the current data-use agreement download the archive from the API "
        f"(`{_site()}/api/v1/snapshots/{snap.version}/download/`). The archive and its checksums never change. "
        "Layout: `train/`, `validation/`, `test/` with images and `metadata.jsonl` (a split with no photos is left out; loadable with "
        "`datasets.load_dataset(\"imagefolder\", data_dir=...)`), `crops/`, `metadata.parquet`, `croissant.json`, "
        "`SHA256SUMS`, `CHANGELOG.md`, `LICENSE`.", "",
        "## Maintenance", "",
        "New snapshots are published with a date-based version (YYYY.MM.N). When a contributor withdraws consent "
        f"after publication, the files to delete are listed at `{_site()}/api/v1/snapshots/{snap.version}/withdrawn/` "
        "and every researcher who downloaded the snapshot is notified; later snapshots leave the person out.", "",
    ]
    return "\n".join(lines)


def license_text(ctx: DocumentContext) -> str:
    custom = setting("RELEASES_LICENSE_TEXT", "")
    if custom:
        return str(custom)
    return (f"{settings.SITE_NAME} dataset, snapshot {ctx.snapshot.version}\n\n"
            "Use of this dataset is governed by the data-use agreement you accepted before downloading it, "
            f"available at {_site()}/research/. In summary:\n\n"
            "1. Use it only for research on the fairness and robustness of face analysis models.\n"
            "2. Do not try to identify or contact anyone, and do not link the data with other data to that end.\n"
            "3. Do not redistribute the photos or the crops; share only aggregate results.\n"
            "4. Delete every file listed in the snapshot's withdrawn.csv within 30 days of being notified.\n"
            "5. Cite the snapshot version you used.\n\n"
            "The contributors gave their consent for this use only; it can be withdrawn at any time.\n")


def changelog(ctx: DocumentContext, out: IO[bytes]) -> None:
    """Added and removed people and files against the previous snapshot, streamed from the DB."""
    snap, counts = ctx.snapshot, ctx.counts
    prev = snap.previous

    def w(line: str = "") -> None:
        out.write((line + "\n").encode())

    w(f"# Changelog: snapshot {snap.version}")
    w()
    if prev is None:
        w(f"First snapshot: {counts['added_photos']} photos of {counts['added_subjects']} people.")
        return
    w(f"Compared with snapshot {prev.version}:")
    w()
    w(f"- Added: {counts['added_photos']} photos, {counts['added_subjects']} new people.")
    w(f"- Removed: {counts['removed_photos']} photos, {counts['removed_subjects']} people "
      "(withdrawn consent, deleted photos or reversed approvals).")
    if snap.purge_of_id:
        w(f"- This is a purged rebuild of {snap.purge_of.version if snap.purge_of else ''}: "
          "every withdrawn person is left out.")
    new = SnapshotEntry.objects.filter(snapshot=snap)
    old = SnapshotEntry.objects.filter(snapshot=prev)
    sections = [
        ("Added people", new.exclude(subject_id__in=old.values("subject_id")).values_list("subject_id", flat=True)
         .distinct().order_by("subject_id")),
        ("Removed people", old.exclude(subject_id__in=new.values("subject_id")).values_list("subject_id", flat=True)
         .distinct().order_by("subject_id")),
        ("Added files", new.exclude(sha256__in=old.values("sha256")).values_list("file_name", flat=True)
         .order_by("file_name")),
        ("Removed files", old.exclude(sha256__in=new.values("sha256")).values_list("file_name", flat=True)
         .order_by("file_name")),
    ]
    for title, qs in sections:
        w()
        w(f"## {title}")
        w()
        for item in qs.iterator(chunk_size=2000):
            w(f"- {item}")
