"""Which photos a snapshot holds and who goes in which split, read in bounded chunks; what
changed against the previous snapshot.

Memory: rows are plain dicts read by keyset pagination (``CHUNK`` at a time); what stays in
memory is one small record per *person*, so peak memory does not grow with the photos.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from django.db import connection
from django.db.models import Count, Exists, Max, Min, OuterRef, Q, QuerySet
from django.utils import timezone

from facecommons.accounts.models import ConsentAcceptance
from facecommons.common.db import bulk_insert
from facecommons.contributions.models import Category, Contribution, ContributionFile, ContributionStatus, FileVariant
from facecommons.releases.archive import splits
from facecommons.releases.models import SnapshotEntry, SnapshotStatus, Subject, new_subject_id

CHUNK = 500
ROW_FIELDS = ("id", "owner_id", "sha256", "categories", "corrected_categories", "width", "height", "byte_size",
              "created_at", "analysis__face", "analysis__enhanced", "analysis__lowlight", "analysis__enhancer_id",
              "analysis__enhancer_version", "analysis__detector_id", "analysis__detector_version",
              "analysis__detector_missed")
# variant -> folder of the crop inside the snapshot
CROPS = (("crop", "crops/112"), ("crop224", "crops/224"))


def eligible_contributions(cutoff: Any) -> QuerySet[Contribution]:
    """Approved photos whose owner's consent was in force at ``cutoff``."""
    consent_in_force = ConsentAcceptance.objects.filter(
        user=OuterRef("owner"), adult_confirmed=True, accepted_at__lte=cutoff,
    ).filter(Q(withdrawn_at__isnull=True) | Q(withdrawn_at__gt=cutoff))
    return (Contribution.objects
            .filter(status=ContributionStatus.APPROVED, status_changed_at__lte=cutoff)
            .filter(Q(owner__withdrawn_at__isnull=True) | Q(owner__withdrawn_at__gt=cutoff))
            .filter(Exists(consent_in_force)))


def category_schema() -> list[tuple[str, bool]]:
    """(key, multiple) for every category of the current taxonomy, in display order."""
    return [(c.key, c.multiple) for c in Category.objects.filter(taxonomy__is_current=True).order_by("order", "id")]


def subjects_for(owner_ids: Iterable[int]) -> dict[int, str]:
    """owner id -> pseudonymous subject id (created on first inclusion)."""
    owner_ids = list(owner_ids)
    existing = dict(Subject.objects.filter(user_id__in=owner_ids).values_list("user_id", "subject_id"))
    missing = [oid for oid in owner_ids if oid not in existing]
    if missing:
        now = timezone.now()
        bulk_insert(Subject, ("user_id", "subject_id", "created_at"),
                    [(oid, new_subject_id(), now) for oid in missing], ignore_conflicts=True)
        existing.update(Subject.objects.filter(user_id__in=missing).values_list("user_id", "subject_id"))
    return existing


def earlier_splits(subject_ids: list[str]) -> dict[str, str]:
    """The split each person had in the most recent published snapshot that held them."""
    out: dict[str, str] = {}
    for i in range(0, len(subject_ids), 900):
        rows = (SnapshotEntry.objects.filter(subject_id__in=subject_ids[i:i + 900],
                                             snapshot__status=SnapshotStatus.PUBLISHED)
                .order_by("snapshot__published_at", "snapshot_id").values_list("subject_id", "split"))
        for sid, split in rows:
            out[sid] = split  # later snapshots overwrite earlier ones
    return out


def files_for(ids: list[Any]) -> dict[Any, dict[str, tuple[str, str, int]]]:
    """contribution id -> variant -> (storage key, sha256, size), for the original and the crops.

    One plain statement: through the ORM, preparing a chunk's 500 ids for ``IN`` cost more
    than the rest of the query (a tenth of a build). Ids come back as the database gives them
    and are mapped to the ids asked for through their prepared form.
    """
    out: dict[Any, dict[str, tuple[str, str, int]]] = defaultdict(dict)
    if not ids:
        return out
    meta = ContributionFile._meta
    field = meta.get_field("contribution")
    asked = {field.get_db_prep_value(i, connection): i for i in ids}  # type: ignore[union-attr]
    qn = connection.ops.quote_name
    col = {f.attname: qn(str(f.column)) for f in meta.concrete_fields}
    variants = [FileVariant.ORIGINAL, FileVariant.CROP, FileVariant.CROP224]
    sql = (f"SELECT {col['contribution_id']}, {col['variant']}, {col['key']}, {col['sha256']}, {col['byte_size']} "  # noqa: S608 - names from the model
           f"FROM {qn(meta.db_table)} WHERE {col['contribution_id']} IN ({', '.join(['%s'] * len(asked))})")
    with connection.cursor() as cursor:
        cursor.execute(sql, list(asked))
        for cid, variant, key, sha, size in cursor.fetchall():
            if variant in variants:
                out[asked[cid]][variant] = (key, sha, size)
    return out


def iter_rows(qs: QuerySet[Contribution]) -> Iterator[list[dict[str, Any]]]:
    """Keyset pagination by SHA-256: stable order, bounded memory, no OFFSET scans; plain dicts
    (no model instances: building 10,000 of them costs more than the rest of the build)."""
    last = ""
    while True:
        chunk = list(qs.filter(sha256__gt=last).order_by("sha256").values(*ROW_FIELDS)[:CHUNK])
        if not chunk:
            return
        yield chunk
        last = chunk[-1]["sha256"]


def crop_paths(files: dict[str, tuple[str, str, int]]) -> list[str]:
    return [f"{folder}/{files[v][1]}.jpg" for v, folder in CROPS if v in files]


def people(qs: QuerySet[Contribution], *, seed: str,
           prior: Mapping[str, Mapping[str, int]] | None = None) -> tuple[dict[int, tuple[str, str]], int]:
    """Pass 1, one record per person: (owner id -> (subject id, split), photos). Splits are
    person-disjoint and keep each person's split from earlier published snapshots.

    New people are balanced against the photos of everyone else, each photo counted under its
    own stratum: those of people already published that ``qs`` holds, plus ``prior`` (the next
    version's build passes only the photos new since the previous version as ``qs``, and the
    counts it carries over as ``prior``). So both builds split the same people the same way.
    """
    per_owner: dict[int, list[Any]] = {}
    # In SHA-256 order: a person's photos are counted in the same order by either build (ties of
    # ``most_common`` go to the first counted).
    for owner_id, cats, corr in (qs.order_by("sha256").values_list("owner_id", "categories", "corrected_categories")
                                 .iterator(chunk_size=2000)):
        rec = per_owner.setdefault(owner_id, [0, Counter()])
        rec[0] += 1
        rec[1][splits.stratum_of({**(cats or {}), **(corr or {})})] += 1
    subjects = subjects_for(per_owner)
    fixed = earlier_splits(list(subjects.values()))
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for stratum, per_split in (prior or {}).items():
        counts[stratum].update(per_split)
    new = []
    for o, (n, by_stratum) in per_owner.items():
        sid = subjects[o]
        if sid in fixed:
            for stratum, k in by_stratum.items():
                counts[stratum][fixed[sid]] += k
        else:
            new.append((sid, by_stratum.most_common(1)[0][0], n))
    assigned = {**fixed, **splits.assign_splits(new, seed=seed, prior=counts)}
    return {o: (subjects[o], assigned[subjects[o]]) for o in per_owner}, sum(rec[0] for rec in per_owner.values())


def changes_against(*, snapshot_id: int, previous_id: int | None) -> dict[str, Any]:
    """Photos and people added and removed against the previous snapshot (counts)."""
    new = SnapshotEntry.objects.filter(snapshot_id=snapshot_id)
    if previous_id is None:
        return {"added_photos": new.count(), "removed_photos": 0,
                "added_subjects": new.values("subject_id").distinct().count(), "removed_subjects": 0}
    old = SnapshotEntry.objects.filter(snapshot_id=previous_id)
    return {
        "added_photos": new.exclude(sha256__in=old.values("sha256")).count(),
        "removed_photos": old.exclude(sha256__in=new.values("sha256")).count(),
        "added_subjects": new.exclude(subject_id__in=old.values("subject_id")).values("subject_id").distinct().count(),
        "removed_subjects": old.exclude(subject_id__in=new.values("subject_id")).values("subject_id").distinct().count(),
    }


def changelog_sections(*, snapshot_id: int, previous_id: int | None) -> list[tuple[str, Iterator[str]]]:
    """The changelog's lists (added and removed people and files), each streamed when read."""
    if previous_id is None:
        return []
    new = SnapshotEntry.objects.filter(snapshot_id=snapshot_id)
    old = SnapshotEntry.objects.filter(snapshot_id=previous_id)
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
    return [(title, qs.iterator(chunk_size=2000)) for title, qs in sections]


# --- the next version: what changed since the previous one -----------------------------------------

ENTRY_FIELDS = ("contribution_id", "sha256", "split", "subject_id", "file_name", "extra_files", "attributes")


def changed_since(qs: QuerySet[Contribution], *, previous_id: int, since: Any) -> tuple[QuerySet[Contribution],
                                                                                         list[dict[str, Any]]]:
    """What turns the previous version's photos into ``qs``'s: (the photos to add, as a queryset
    for ``iter_rows``; the previous version's entries to drop, as dicts of ``ENTRY_FIELDS``).

    A photo of both whose row may have changed since ``since`` (the previous build's start: its
    categories, its analysis or its files) is dropped and added again, so the new version holds
    what it is now. The set differences run in the database; what comes back is O(changes).
    """
    held = SnapshotEntry.objects.filter(snapshot_id=previous_id).values("contribution_id")
    stale = list(qs.filter(id__in=held).filter(
        Q(updated_at__gt=since) | Q(analysis__finished_at__gt=since) | Q(files__created_at__gt=since))
        .values_list("id", flat=True).distinct())
    added = qs.filter(~Q(id__in=held) | Q(id__in=stale))
    dropped = list(SnapshotEntry.objects.filter(snapshot_id=previous_id)
                   .filter(~Q(contribution_id__in=qs.values("id")) | Q(contribution_id__in=stale))
                   .order_by("sha256").values(*ENTRY_FIELDS))
    return added, dropped


def collected_between(qs: QuerySet[Contribution]) -> tuple[str, str]:
    """The first and last upload dates (ISO) of the photos: the collection timeframe."""
    span = qs.aggregate(first=Min("created_at"), last=Max("created_at"))
    return tuple(v.date().isoformat() if v else "" for v in (span["first"], span["last"]))  # type: ignore[return-value]


def people_per_split(snapshot_id: int) -> dict[str, int]:
    """Distinct people per split of a version's entries, and in all (``all``)."""
    entries = SnapshotEntry.objects.filter(snapshot_id=snapshot_id)
    out = {row["split"]: row["n"] for row in entries.values("split").annotate(n=Count("subject_id", distinct=True))
           .order_by()}
    out["all"] = entries.values("subject_id").distinct().count()
    return out


def changes_from_delta(*, snapshot_id: int, previous_id: int, added: list[tuple[str, str, str]],
                       dropped: list[dict[str, Any]]) -> tuple[dict[str, Any], list[tuple[str, Iterator[str]]]]:
    """``changes_against`` and ``changelog_sections`` for a version built from the previous one,
    from what the build added (sha256, subject id, file name) and dropped (``changed_since``):
    O(changes), where those compare both versions' entries in full."""
    added_shas, dropped_shas = {a[0] for a in added}, {d["sha256"] for d in dropped}
    new_files = sorted(name for sha, _, name in added if sha not in dropped_shas)
    gone_files = sorted(d["file_name"] for d in dropped if d["sha256"] not in added_shas)

    def held(snapshot: int, subject_ids: set[str]) -> set[str]:
        ids, out = sorted(subject_ids), set[str]()
        for i in range(0, len(ids), 900):
            out.update(SnapshotEntry.objects.filter(snapshot_id=snapshot, subject_id__in=ids[i:i + 900])
                       .values_list("subject_id", flat=True).distinct())
        return out

    arriving = {sid for _, sid, _ in added}
    new_people = sorted(arriving - held(previous_id, arriving))
    leaving = {d["subject_id"] for d in dropped}
    gone_people = sorted(leaving - held(snapshot_id, leaving))
    counts = {"added_photos": len(new_files), "removed_photos": len(gone_files),
              "added_subjects": len(new_people), "removed_subjects": len(gone_people)}
    sections = [("Added people", iter(new_people)), ("Removed people", iter(gone_people)),
                ("Added files", iter(new_files)), ("Removed files", iter(gone_files))]
    return counts, sections
