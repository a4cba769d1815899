"""Snapshots: layout, datasets loading, checksums, croissant, splits, determinism."""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict

import pytest

from tests.releases.conftest import extract

pytestmark = pytest.mark.django_db


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_snapshot_layout_checksums_and_splits(make_dataset, build, tmp_path):
    people = make_dataset(12)
    snap = build()
    n_photos = sum(len(v) for v in people.values())
    assert snap.counts["photos"] == n_photos
    assert snap.counts["subjects"] == 12
    root = extract(snap, tmp_path)
    # The streamed archive has the size recorded at publication.
    from tests.releases.conftest import archive_bytes

    assert len(archive_bytes(snap)) == snap.archive_size
    for name in ("metadata.parquet", "croissant.json", "DATASHEET.md", "LICENSE", "SHA256SUMS", "CHANGELOG.md",
                 "train/metadata.jsonl", "validation/metadata.jsonl", "test/metadata.jsonl"):
        assert (root / name).is_file(), name
    # SHA256SUMS lists every other file and matches.
    listed = {}
    for line in (root / "SHA256SUMS").read_text().splitlines():
        digest, rel = line.split("  ", 1)
        listed[rel] = digest
    on_disk = {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and p.name != "SHA256SUMS"}
    assert set(listed) == on_disk
    for rel, digest in listed.items():
        assert _sha(root / rel) == digest, rel
    # Images are content-addressed and byte-identical to the stored originals.
    from facecommons.contributions.models import Contribution

    for c in Contribution.objects.filter(status="approved"):
        matches = list(root.glob(f"*/{c.sha256}.jpg"))
        assert len(matches) == 1
        assert _sha(matches[0]) == c.sha256
    # Person-disjoint splits, all three non-empty.
    split_of = defaultdict(set)
    for split in ("train", "validation", "test"):
        rows = [json.loads(x) for x in (root / split / "metadata.jsonl").read_text().splitlines()]
        assert rows, split
        for r in rows:
            split_of[r["subject_id"]].add(split)
            assert (root / split / r["file_name"]).is_file()
            if r["crop_112"]:
                assert (root / r["crop_112"]).is_file()
    assert all(len(s) == 1 for s in split_of.values())
    # Subject ids are random pseudonyms, never account ids or e-mails.
    ids = {str(u.pk) for u in people}
    assert not (set(split_of) & ids)
    assert all(s.startswith("s-") for s in split_of)
    datasheet = (root / "DATASHEET.md").read_text()
    for section in ("## Motivation", "## Composition", "## Collection process", "## Preprocessing", "## Uses",
                    "## Distribution", "## Maintenance", "gender×skin_tone"):
        assert section.replace("_", " ") in datasheet.replace("_", " ")
    assert "fewer than 5" in datasheet


def test_snapshot_loads_with_datasets_with_labels(make_dataset, build, tmp_path, monkeypatch):
    people = make_dataset(12)
    snap = build()
    root = extract(snap, tmp_path / "x")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    import datasets

    ds = datasets.load_dataset("imagefolder", data_dir=str(root), cache_dir=str(tmp_path / "hf"))
    assert set(ds.keys()) == {"train", "validation", "test"}
    expected = {c.sha256: c.effective_categories for cs in people.values() for c in cs}
    seen = 0
    for split in ds:
        for row in ds[split]:
            # The image decodes; its bytes name tell which photo it is.
            img = row["image"]
            assert img.size[0] > 0
            sha = row["sha256"]
            cats = expected[sha]
            assert row["gender"] == cats["gender"]
            assert row["age_range"] == cats["age_range"]
            assert row["skin_tone"] == cats["skin_tone"]
            assert row["ethnicity"] == cats["ethnicity"]
            seen += 1
    assert seen == len(expected)
    assert sum(snap.counts["splits"][s]["photos"] for s in ("train", "validation", "test")) == seen


def test_croissant_1_1_with_rai_and_provenance_validates(make_dataset, build, tmp_path):
    from facecommons.contributions.models import Contribution

    make_dataset(6)
    corrected = Contribution.objects.filter(status="approved").order_by("pk").first()
    Contribution.objects.filter(pk=corrected.pk).update(corrected_categories={"gender": "woman"})
    snap = build()
    root = extract(snap, tmp_path)
    import mlcroissant as mlc

    dataset = mlc.Dataset(jsonld=str(root / "croissant.json"))  # raises on validation errors
    assert dataset.metadata.name == f"facecommons-{snap.version}"
    issues = dataset.metadata.ctx.issues
    assert not issues.errors, [str(e) for e in issues.errors]
    assert not issues.warnings, [str(w) for w in issues.warnings]
    records = list(dataset.records(record_set="photos"))
    assert len(records) == snap.counts["photos"]
    doc = json.loads((root / "croissant.json").read_text())
    assert "http://mlcommons.org/croissant/1.1" in doc["conformsTo"]
    for key in ("rai:dataCollection", "rai:dataCollectionType", "rai:dataCollectionTimeframe", "rai:dataBiases",
                "rai:personalSensitiveInformation", "rai:dataLimitations", "rai:dataUseCases",
                "rai:dataAnnotationProtocol", "rai:dataAnnotationAnalysis", "rai:machineAnnotationTools",
                "rai:dataReleaseMaintenancePlan", "rai:dataPreprocessingProtocol"):
        assert doc[key], key
    assert "withdraw" in doc["rai:dataCollection"] and "signed removal manifest" in doc["rai:dataReleaseMaintenancePlan"]
    # Per-record provenance: who corrected, which model enhanced, which detector found the face.
    by_sha = {r["photos/sha256"].decode(): r for r in records}
    assert by_sha[corrected.sha256]["photos/corrected"] is True
    assert sum(bool(r["photos/corrected"]) for r in records) == 1
    enhanced = [r for r in records if r["photos/enhanced"]]
    assert enhanced and all(r["photos/enhancement_model"] for r in enhanced)
    assert all(not r["photos/enhancement_model"] for r in records if not r["photos/enhanced"])


def test_splits_are_deterministic_and_stable(make_dataset, build):
    from facecommons.releases.archive.splits import assign_splits

    subjects = [(f"s-{i:03d}", f"st{i % 4}", 1 + i % 3) for i in range(60)]
    a = assign_splits(subjects, seed="2026.11.0")
    assert a == assign_splits(list(reversed(subjects)), seed="2026.11.0")
    photos = defaultdict(int)
    for sid, _, n in subjects:
        photos[a[sid]] += n
    total = sum(photos.values())
    assert 0.7 < photos["train"] / total < 0.9
    assert photos["validation"] > 0 and photos["test"] > 0
    # People published earlier keep their split.
    fixed = {sid: "test" for sid, _, _ in subjects[:5]}
    b = assign_splits(subjects, seed="2026.12.0", fixed=fixed)
    assert all(b[s] == "test" for s in fixed)

    make_dataset(10)
    s1 = build()
    make_dataset(3, start=50)
    s2 = build()
    from facecommons.releases.models import SnapshotEntry

    first = dict(SnapshotEntry.objects.filter(snapshot=s1).values_list("contribution_id", "split"))
    second = dict(SnapshotEntry.objects.filter(snapshot=s2).values_list("contribution_id", "split"))
    assert all(second[c] == s for c, s in first.items())
    assert s2.counts["added_photos"] == len(second) - len(first)
    assert s2.version > s1.version


def test_rebuild_of_the_same_snapshot_has_the_same_manifest(make_dataset, release_admin):
    from facecommons.releases.build import snapshot_build
    from facecommons.releases.models import Snapshot
    from facecommons.releases.services import snapshot_request

    make_dataset(5)
    snap = snapshot_request(actor=release_admin, enqueue=False)
    first = snapshot_build(snapshot_id=snap.pk)
    # Simulate a crashed run being redone: the same snapshot built again gives the same bytes.
    Snapshot.objects.filter(pk=snap.pk).update(status="failed")
    again = snapshot_build(snapshot_id=snap.pk)
    assert again.manifest_sha256 == first.manifest_sha256
    assert again.documents == first.documents
    # A published snapshot is never rebuilt.
    assert snapshot_build(snapshot_id=snap.pk) is None


def test_only_consenting_approved_photos_are_included(make_dataset, build, make_user):
    from tests.factories import make_contribution

    make_dataset(4)
    pending_owner = make_user(email="pending@example.org")
    make_contribution(pending_owner, status="awaiting_review")
    no_consent = make_user(email="noconsent@example.org", consent=False)
    make_contribution(no_consent, status="approved")
    snap = build()
    assert snap.counts["subjects"] == 4


def test_progress_is_recorded(make_dataset, build):
    make_dataset(3)
    snap = build()
    from facecommons.releases.selectors import snapshot_progress

    p = snapshot_progress(snap)
    assert p["status"] == "published" and p["percent"] == 100.0 and p["done"] == p["total"] == snap.counts["photos"]



def test_datasets_loads_when_a_split_has_no_face_at_all(make_dataset, build, tmp_path, monkeypatch):
    """A column missing throughout one split must not change that split's features."""
    from facecommons.pipeline.models import PhotoAnalysis

    make_dataset(8)
    keep = PhotoAnalysis.objects.order_by("pk").first()
    PhotoAnalysis.objects.exclude(pk=keep.pk).delete()
    snap = build()
    root = extract(snap, tmp_path / "x")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    import datasets

    ds = datasets.load_dataset("imagefolder", data_dir=str(root), cache_dir=str(tmp_path / "hf"))
    with_face = [r for s in ds for r in ds[s] if r["has_face"]]
    assert len(with_face) == 1
    assert with_face[0]["face_box"] == keep.face["box"]
    assert all(r["face_box"] == [-1.0] * 4 for s in ds for r in ds[s] if not r["has_face"])


def _verify_sums(root) -> set[str]:
    lines = (root / "SHA256SUMS").read_text().splitlines()
    for line in lines:
        digest, rel = line.split("  ", 1)
        assert _sha(root / rel) == digest, rel
    on_disk = {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and p.name != "SHA256SUMS"}
    assert {line.split("  ", 1)[1] for line in lines} == on_disk
    return {line for line in lines if line.split("  ", 1)[1].endswith(".jpg")}


def test_a_snapshot_of_few_people_still_loads(make_dataset, build, tmp_path, monkeypatch):
    """Two people cannot fill three person-disjoint splits: the empty ones are left out, and
    `datasets` loads what is there instead of refusing the whole snapshot."""
    make_dataset(people=2)
    snap = build()
    root = extract(snap, tmp_path / "x")
    present = {s for s in ("train", "validation", "test") if (root / s / "metadata.jsonl").is_file()}
    assert present and present != {"train", "validation", "test"}
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    import datasets

    ds = datasets.load_dataset("imagefolder", data_dir=str(root), cache_dir=str(tmp_path / "hf"))
    assert set(ds.keys()) == present
    assert sum(len(ds[s]) for s in ds) == snap.counts["photos"]
    assert _verify_sums(root)
