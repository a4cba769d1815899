"""The workbench's training code on a tiny generated snapshot (no Django, no real photos)."""

from __future__ import annotations

import io
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from ml.workbench import Cancelled, Hooks, Policy, SnapshotError, TrainConfig, load_snapshot, sample, synthetic
from ml.workbench.results import difference_interval, find
from ml.workbench.tasks import train

FAST = {"epochs": 2, "steps_per_epoch": 2, "batch_size": 16, "min_group_size": 2, "n_boot": 20}


@pytest.fixture(scope="module")
def snap(tmp_path_factory):
    root = tmp_path_factory.mktemp("snap")
    synthetic.write_folder(root, people=30, photos_per_person=2)
    s = load_snapshot(root)
    yield s
    s.close()


def _test_counts(snap, key):
    return Counter(v for p in snap.split("test") for v in p.groups(key))


def test_archive_and_folder_load_the_same(tmp_path, snap):
    tar = load_snapshot(io.BytesIO(synthetic.archive_bytes(people=30, photos_per_person=2)))
    assert [p.path for p in tar.photos] == [p.path for p in snap.photos]
    assert tar.read(tar.photos[0].path) == snap.read(snap.photos[0].path)
    assert {p.split for p in snap.photos} == {"train", "validation", "test"}


def test_splits_must_be_person_disjoint(tmp_path):
    root = synthetic.write_folder(tmp_path, people=20, photos_per_person=1)
    train_meta = (root / "train" / "metadata.jsonl").read_text().splitlines()
    test_meta = (root / "test" / "metadata.jsonl").read_text().splitlines()
    person = train_meta[0].split('"subject_id": "')[1].split('"')[0]
    other = test_meta[0].split('"subject_id": "')[1].split('"')[0]
    (root / "test" / "metadata.jsonl").write_text("\n".join([test_meta[0].replace(other, person), *test_meta[1:]]))
    with pytest.raises(SnapshotError, match="person-disjoint"):
        load_snapshot(tmp_path)


def test_policies(snap):
    photos = snap.split("train")
    skewed = sample(photos, Policy("skewed", "gender&ethnicity", ("gender=man&ethnicity=white",)), seed=0)
    assert skewed and all(p.labels["gender"] == "man" and p.labels["ethnicity"] == ["white"] for p in skewed)
    balanced = sample(photos, Policy("balanced", "gender"), seed=0)
    counts = Counter(p.labels["gender"] for p in balanced)
    assert counts["man"] == counts["woman"] > 0
    capped = sample(photos, Policy("balanced", "gender&ethnicity", max_photos=6), seed=0)
    assert len(capped) == 6 and len({(p.labels["gender"], p.labels["ethnicity"][0]) for p in capped}) == 6
    assert sample(photos, Policy(), seed=3) == sorted(photos, key=lambda p: p.path)
    with pytest.raises(ValueError):
        Policy("skewed", "gender")


def test_face_vs_background_skewed_reports_every_group(snap, tmp_path):
    cfg = TrainConfig(task="face-vs-background", policy=Policy("skewed", "gender", ("man",)), **FAST)
    res = train(snap, cfg, Hooks(threads=1, checkpoint_dir=tmp_path))
    # The recorded training set holds men only...
    assert res.training_set and {r["labels"]["gender"] for r in res.training_set} == {"man"}
    # ...and the test covers everyone, with the right n per group.
    for g, n in _test_counts(snap, "gender").items():
        row = find(res.rows, category="gender", value=g, metric="miss_rate")
        assert row is not None and row.n == n and 0 <= row.estimate <= 1 and row.ci_low <= row.estimate <= row.ci_high
    cells = {r.value for r in res.rows if r.category == "gender&ethnicity" and r.metric == "miss_rate"}
    assert cells == set(_test_counts(snap, "gender&ethnicity"))
    assert find(res.rows, category="all", value="all", metric="background_false_positive_rate").n > 0
    assert [h["epoch"] for h in res.history] == [1, 2] and (tmp_path / "checkpoint.pt").exists()


def test_category_and_gender_neutral_score(snap):
    res = train(snap, TrainConfig(task="category", category="gender", **FAST), Hooks(threads=1))
    acc = {g: find(res.rows, category="gender", value=g, metric="accuracy") for g in ("man", "woman")}
    assert {g: r.n for g, r in acc.items()} == dict(_test_counts(snap, "gender"))
    gn = find(res.rows, category="gender", value="*", metric="gn_score")
    a, b = acc["man"].estimate, acc["woman"].estimate
    assert gn.estimate == pytest.approx((a + b) / 2 - abs(a - b))
    from dataclasses import replace

    from ml.workbench.tasks import _single_value

    two = replace(snap.photos[0], labels={**snap.photos[0].labels, "ethnicity": ["white", "black"]})
    with pytest.raises(SnapshotError, match="multi-valued"):
        _single_value(two, "ethnicity")


def test_verification_with_dlib_baseline(snap):
    res = train(snap, TrainConfig(task="verification", **FAST), Hooks(threads=1))
    test = snap.split("test")
    n_gen = sum(1 for i, p in enumerate(test) for q in test[i + 1:] if p.subject == q.subject)
    row = find(res.rows, category="all", value="all", metric="fnmr@target")
    assert row.n == n_gen and res.summary["test_genuine_pairs"] == n_gen
    assert find(res.rows, category="all", value="all", metric="threshold@target") is not None
    base = find(res.baseline_rows, category="all", value="all", metric="fmr@target")
    assert base is not None and base.n == res.summary["test_impostor_pairs"]


def test_cancel_keeps_checkpoint_and_resume_continues(snap, tmp_path):
    cfg = TrainConfig(task="category", category="gender", **{**FAST, "epochs": 3})
    seen = []

    def stop_after_first_epoch() -> bool:
        return len(seen) >= 1

    with pytest.raises(Cancelled):
        train(snap, cfg, Hooks(threads=1, progress=seen.append, should_stop=stop_after_first_epoch, checkpoint_dir=tmp_path / "a"))
    assert [p.epoch for p in seen] == [1]
    resumed = []
    res = train(snap, cfg, Hooks(threads=1, progress=resumed.append, checkpoint_dir=tmp_path / "a"))
    assert [p.epoch for p in resumed] == [2, 3]  # epoch 1 came from the checkpoint
    straight = train(snap, cfg, Hooks(threads=1, checkpoint_dir=tmp_path / "b"))
    assert [h["loss"] for h in res.history] == pytest.approx([h["loss"] for h in straight.history], rel=1e-4)
    # A different config never reuses the checkpoint.
    other = train(snap, TrainConfig(task="category", category="gender", seed=1, **{**FAST, "epochs": 1}),
                  Hooks(threads=1, checkpoint_dir=tmp_path / "a"))
    assert [h["epoch"] for h in other.history] == [1]


def test_difference_interval():
    d, lo, hi = difference_interval(30, 100, 10, 100)
    assert d == pytest.approx(0.2) and lo < 0.2 < hi and lo > 0
    d, lo, hi = difference_interval(5, 50, 5, 50)
    assert d == 0 and lo < 0 < hi


def test_registered_models_join_the_registries(snap, tmp_path, monkeypatch):
    monkeypatch.setenv("FACECOMMONS_WEIGHTS_DIR", str(tmp_path))
    from ml.registry import create_model, list_models
    from ml.workbench.registry import install, save_model, uninstall

    fvb = train(snap, TrainConfig(task="face-vs-background", **FAST), Hooks(threads=1))
    save_model(fvb, tmp_path / "fvb.pt")
    install(model_id="wb-fvb-test", model_file=tmp_path / "fvb.pt", version="1", weights_source="test")
    assert "wb-fvb-test" in list_models("detector")
    img = snap.reader.read(snap.photos[0].path)
    from ml.workbench.data import decode_rgb

    dets = create_model("wb-fvb-test").detect(decode_rgb(img))
    assert all(0 <= d.score <= 1 and d.box[2] > d.box[0] for d in dets)
    ver = train(snap, TrainConfig(task="verification", baseline=False, **FAST), Hooks(threads=1))
    save_model(ver, tmp_path / "ver.pt")
    install(model_id="wb-ver-test", model_file=tmp_path / "ver.pt", version="1", weights_source="test")
    v = create_model("wb-ver-test")
    emb = v.embed(decode_rgb(img), None)
    assert emb.shape == (128,) and np.isclose(np.linalg.norm(emb), 1, atol=1e-3)
    cat = train(snap, TrainConfig(task="category", category="gender", **FAST), Hooks(threads=1))
    save_model(cat, tmp_path / "cat.pt")
    with pytest.raises(ValueError, match="only face-vs-background"):
        install(model_id="wb-cat-test", model_file=tmp_path / "cat.pt", version="1", weights_source="test")
    uninstall("wb-fvb-test")
    assert "wb-fvb-test" not in list_models("detector") and "retinaface-mobilenet" in list_models("detector")
    assert Path(tmp_path / "workbench" / "wb-ver-test" / "manifest.json").exists()
