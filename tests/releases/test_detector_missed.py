"""Photos whose face a moderator marked (the detector missed it) say so in snapshots."""

from __future__ import annotations

import json

import pytest

from facecommons.pipeline.manual import pipeline_face_from_box
from tests.factories import make_contribution
from tests.pipeline import images
from tests.releases.conftest import extract


@pytest.mark.django_db
def test_snapshot_rows_carry_detector_missed(make_dataset, build, make_user, tmp_path):
    from facecommons.pipeline.models import PhotoAnalysis

    make_dataset(12)
    owner = make_user()
    c = make_contribution(owner, status="approved", image=images.jpeg(images.coffee()))
    PhotoAnalysis.objects.create(contribution=c, verdict_code="await_contributor", findings=["no_face"],
                                 face={"count": 0, "source": "original"})
    pipeline_face_from_box(contribution=c, box=(100.0, 80.0, 300.0, 300.0))
    snap = build()
    root = extract(snap, tmp_path)
    rows = [json.loads(line) for split in ("train", "validation", "test")
            for line in (root / split / "metadata.jsonl").read_text().splitlines()]
    mine = [r for r in rows if r["sha256"] == c.sha256]
    assert len(mine) == 1
    row = mine[0]
    assert row["detector_missed"] is True and row["has_face"] is True
    assert row["face_box"] == [100.0, 80.0, 300.0, 300.0] and row["face_score"] == -1.0
    assert (root / row["crop_112"]).is_file() and (root / row["crop_224"]).is_file()
    others = [r for r in rows if r["sha256"] != c.sha256]
    assert others and not any(r["detector_missed"] for r in others)
    import pyarrow.parquet as pq

    table = pq.read_table(root / "metadata.parquet").to_pylist()
    assert [r["detector_missed"] for r in table if r["sha256"] == c.sha256] == [True]
    # Subsets can select the hard cases (the releases app filters on the entry's attributes).
    from facecommons.releases.models import SnapshotEntry

    flags = dict(SnapshotEntry.objects.filter(snapshot=snap).values_list("sha256", "attributes__detector_missed"))
    assert flags[c.sha256] is True and not any(v for sha, v in flags.items() if sha != c.sha256)
