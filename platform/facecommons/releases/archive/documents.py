"""The documents shipped in a snapshot: DATASHEET.md, LICENSE, CHANGELOG.md (croissant.json: ``croissant``).

Counts below ``STATS_MIN_COUNT`` are written as "fewer than k" so nobody is singled out. Pure:
every document is a function of a ``DocumentContext`` (plain data gathered by the build).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any

from django.conf import settings

from facecommons.common.tunables import tunables

# The main intersections reported in the datasheet and on the statistics page.
INTERSECTIONS: list[tuple[str, str]] = [("gender", "skin_tone"), ("age_range", "gender"), ("ethnicity", "skin_tone")]
UNDECLARED = "prefer_not_to_say"


def _values(v: Any) -> list[str]:
    if v is None or v == "":
        return []
    return [str(x) for x in v] if isinstance(v, list) else [str(v)]


@dataclass
class Composition:
    """Counters of photos per category value and main intersection, per split and per tool.

    Counters only, no per-person sets: memory is bounded by the taxonomy, not by the dataset.
    The next version starts from this one's counters (``state``/``from_state``), less the
    photos that left (``remove``) plus the new ones (``add``); people per split are counted by
    the database (``counts(people=...)``). Raw counters are internal: only ``counts()``, with
    small counts suppressed, is published.
    """

    schema: list[tuple[str, bool]]
    k: int
    photos: int = 0
    per_split: Counter[str] = field(default_factory=Counter)
    values: dict[str, Counter[str]] = field(default_factory=dict)
    pairs: dict[str, Counter[tuple[str, str]]] = field(default_factory=dict)
    enhanced: int = 0
    with_face: int = 0
    corrected: int = 0
    tools: Counter[str] = field(default_factory=Counter)

    def add(self, row: dict[str, Any], split: str) -> None:
        """Count a photo's metadata row (``rows.metadata_row``, or a metadata.parquet row)."""
        self._count(row, split, 1)

    def remove(self, row: dict[str, Any], split: str) -> None:
        """Un-count a photo counted by ``add`` (a photo that left since the previous version)."""
        self._count(row, split, -1)

    def _count(self, row: dict[str, Any], split: str, d: int) -> None:
        self.photos += d
        bump(self.per_split, split, d)
        for key, _ in self.schema:
            c = self.values.setdefault(key, Counter())
            for v in _values(row.get(key)) or ["(missing)"]:
                bump(c, v, d)
        for a, b in INTERSECTIONS:
            c2 = self.pairs.setdefault(f"{a}×{b}", Counter())
            for va in _values(row.get(a)) or ["(missing)"]:
                for vb in _values(row.get(b)) or ["(missing)"]:
                    bump(c2, (va, vb), d)
        self.enhanced += d * bool(row.get("enhanced"))
        self.with_face += d * bool(row.get("face_box"))
        self.corrected += d * bool(row.get("corrected"))
        for tool in (row.get("detector"), row.get("enhancement_model")):
            if tool:
                bump(self.tools, tool, d)

    def state(self) -> dict[str, Any]:
        """The raw counters as JSON-able data (internal: never published as they are)."""
        return {"photos": self.photos, "per_split": dict(self.per_split),
                "values": {k: dict(c) for k, c in self.values.items()},
                "pairs": {name: {f"{a}\t{b}": n for (a, b), n in c2.items()} for name, c2 in self.pairs.items()},
                "enhanced": self.enhanced, "with_face": self.with_face, "corrected": self.corrected,
                "tools": dict(self.tools)}

    @classmethod
    def from_state(cls, state: dict[str, Any], *, schema: list[tuple[str, bool]], k: int) -> Composition:
        # In the order ``add`` creates them (a JSON column need not keep the keys' order).
        values, pairs = state["values"], state["pairs"]
        names = [f"{a}×{b}" for a, b in INTERSECTIONS]
        return cls(schema=schema, k=k, photos=state["photos"], per_split=Counter(state["per_split"]),
                   values={key: Counter(values[key]) for key, _ in schema if key in values},
                   pairs={name: Counter({tuple(p.split("\t", 1)): n for p, n in pairs[name].items()})  # type: ignore[misc]
                          for name in names if name in pairs},
                   enhanced=state["enhanced"], with_face=state["with_face"], corrected=state["corrected"],
                   tools=Counter(state["tools"]))

    def counts(self, *, people: dict[str, int] | None = None, collected: tuple[str, str] = ("", "")) -> dict[str, Any]:
        """The published counts. ``people``: distinct people per split and in all (key ``all``),
        as the database counts them; ``collected``: the first and last upload dates (ISO)."""
        people = people or {}
        return {
            "photos": self.photos, "subjects": people.get("all", 0), "enhanced": self.enhanced,
            "with_face": self.with_face,
            "splits": {s: {"photos": self.per_split.get(s, 0), "subjects": people.get(s, 0)}
                       for s in ("train", "validation", "test")},
            "categories": {key: {v: suppress(n, self.k) for v, n in sorted(c.items())} for key, c in self.values.items()},
            "intersections": {name: {f"{a}|{b}": suppress(n, self.k) for (a, b), n in sorted(c2.items())}
                              for name, c2 in self.pairs.items()},
            "min_count": self.k, "corrected": self.corrected, "tools": dict(sorted(self.tools.items())),
            "collected_from": collected[0], "collected_to": collected[1],
        }

    def fmt(self, n: int) -> str:
        return fmt_count(n, self.k)


def bump(counter: Counter[Any], key: Any, d: int) -> None:
    """Add ``d`` to ``counter[key]``, dropping the key at zero (so that counters built by adding
    and removing equal counters built from scratch)."""
    n = counter.get(key, 0) + d
    if n:
        counter[key] = n
    else:
        del counter[key]


def suppress(n: int, k: int) -> int | None:
    return None if 0 < n < k else n


def fmt_count(n: int, k: int) -> str:
    return f"fewer than {k}" if 0 < n < k else str(n)


@dataclass
class DocumentContext:
    """What the documents say, as plain data."""

    version: str
    cutoff_at: datetime
    previous: str | None  # the version the changelog compares against
    purge_of: str | None  # set for a purged rebuild of that version
    counts: dict[str, Any]
    composition: Composition
    schema: list[tuple[str, bool]]
    parquet_sha256: str
    parquet_size: int
    evaluation_findings: str = ""  # known biases from the latest evaluation (croissant's RAI fields)


# (title, items) for each changelog section: added and removed people and files.
ChangelogSections = Iterable[tuple[str, Iterable[str]]]


def site_url() -> str:
    return tunables.SITE_URL


def _table(rows: list[tuple[str, str]], head: tuple[str, str]) -> str:
    out = [f"| {head[0]} | {head[1]} |", "|---|---:|"]
    out += [f"| {a} | {b} |" for a, b in rows]
    return "\n".join(out)


def datasheet(ctx: DocumentContext) -> str:
    """Datasheets for Datasets (Gebru et al.): the sections, with computed counts."""
    comp, counts = ctx.composition, ctx.counts
    k = comp.k
    lines = [
        f"# Datasheet: {settings.SITE_NAME} snapshot {ctx.version}", "",
        f"Cut-off: {ctx.cutoff_at:%Y-%m-%d %H:%M} UTC. Counts below {k} are shown as \"fewer than {k}\" so that "
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
        f"(`{site_url()}/api/v1/snapshots/{ctx.version}/download/`), file by file from the version's manifest, "
        "as a delta from an earlier version, metadata only or as a filtered subset; the command-line client "
        "`facecommons_client` keeps a copy in step. A version's manifest and checksums never change. "
        "Layout: `train/`, `validation/`, `test/` with images and `metadata.jsonl` (a split with no photos is left out; loadable with "
        "`datasets.load_dataset(\"imagefolder\", data_dir=...)`), `crops/`, `metadata.parquet`, `croissant.json`, "
        "`SHA256SUMS`, `CHANGELOG.md`, `LICENSE`.", "",
        "## Maintenance", "",
        "New snapshots are published with a date-based version (YYYY.MM.N). When a contributor withdraws consent "
        "after publication, their files are deleted from the platform and listed in the version's signed removal "
        f"manifest (`{site_url()}/api/v1/snapshots/{ctx.version}/removals/`); every researcher who downloaded the "
        "snapshot is notified and must acknowledge the deletion; later snapshots leave the person out.", "",
    ]
    return "\n".join(lines)


def license_text(ctx: DocumentContext) -> str:
    custom = tunables.RELEASES_LICENSE_TEXT
    if custom:
        return str(custom)
    return (f"{settings.SITE_NAME} dataset, snapshot {ctx.version}\n\n"
            "Use of this dataset is governed by the data-use agreement you accepted before downloading it, "
            f"available at {site_url()}/research/. In summary:\n\n"
            "1. Use it only for research on the fairness and robustness of face analysis models.\n"
            "2. Do not try to identify or contact anyone, and do not link the data with other data to that end.\n"
            "3. Do not redistribute the photos or the crops; share only aggregate results.\n"
            "4. Delete every file listed in the snapshot's withdrawn.csv within 30 days of being notified.\n"
            "5. Cite the snapshot version you used.\n\n"
            "The contributors gave their consent for this use only; it can be withdrawn at any time.\n")


def changelog(ctx: DocumentContext, sections: ChangelogSections, out: IO[bytes]) -> None:
    """Added and removed people and files against the previous snapshot; ``sections`` are
    streamed (``selection.changelog_sections``), never held in memory."""
    counts = ctx.counts

    def w(line: str = "") -> None:
        out.write((line + "\n").encode())

    w(f"# Changelog: snapshot {ctx.version}")
    w()
    if ctx.previous is None:
        w(f"First snapshot: {counts['added_photos']} photos of {counts['added_subjects']} people.")
        return
    w(f"Compared with snapshot {ctx.previous}:")
    w()
    w(f"- Added: {counts['added_photos']} photos, {counts['added_subjects']} new people.")
    w(f"- Removed: {counts['removed_photos']} photos, {counts['removed_subjects']} people "
      "(withdrawn consent, deleted photos or reversed approvals).")
    if ctx.purge_of is not None:
        w(f"- This is a purged rebuild of {ctx.purge_of}: every withdrawn person is left out.")
    for title, items in sections:
        w()
        w(f"## {title}")
        w()
        for item in items:
            w(f"- {item}")
