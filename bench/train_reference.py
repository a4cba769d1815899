"""Reference-model workbench on real labelled photos: what a skewed training set does, per group.

    nice .venv/bin/python bench/train_reference.py [--utk ../shared/data/utk] [--epochs 10]
                                                   [--category-epochs 10] [--threads 1] [--target-fpr 0.01] [--keep DIR]

1. Builds a snapshot in the published layout (``facecommons/<split>/metadata.jsonl``, images,
   ``crops/112``) from ``data/utk/`` (4,000 adults, 5 races x 2 genders), then loads it with
   ``ml.workbench.load_snapshot`` exactly as a training run does. UTKFace's labels are mapped as
   the evaluation's importer maps them. Face box and landmarks come from RetinaFace-MobileNet
   (the pipeline's detector); a chip where it finds no face is left out, as the pipeline would.
   UTKFace chips are tight crops (the face box covers nearly the whole 200 px chip), so no
   background can be cut from them: each chip is scaled to 80-128 px and blended (soft
   elliptical edge) into a 256 px scene cut from the other shared photos (``faces/`` away from
   their faces, ``lowlight/`` brightened); background patches are then cut from these photos
   away from the face box. Each photo is its own subject (UTKFace has no person ids); splits
   70/10/20, stratified by gender x race, seed 0.
2. ``face-vs-background`` trained on White men only (skewed) and on a set of the same size
   balanced over gender x race; threshold on validation backgrounds at 1% false positives;
   miss rate per gender x race on the whole test split, with Wilson intervals, and the
   difference skewed − balanced with Newcombe's interval.
3. ``category`` = gender on the aligned crops, as the snapshot is: accuracy per gender and per
   gender x race, the gender-neutral score mean(acc_men, acc_women) − |acc_men − acc_women|.
Prints the wall time of each step.
"""

from __future__ import annotations

import sys

sys.path[:] = [p for p in sys.path if p not in ("", __file__.rsplit("/", 1)[0])]

import argparse  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
for p in (ROOT, ROOT / "platform"):
    sys.path.insert(0, str(p))

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from ml.align import align_face  # noqa: E402
from ml.metrics.groups import SUMMARY  # noqa: E402
from ml.workbench import Hooks, Policy, TrainConfig, load_snapshot, sample  # noqa: E402
from ml.workbench.results import difference_interval, find  # noqa: E402
from ml.workbench.tasks import train  # noqa: E402

CELL = "gender&ethnicity"
SCENE = 256


def _rgb(path: Path) -> np.ndarray | None:
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    return None if bgr is None else cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def scene_sources(data: Path, detector) -> list[np.ndarray]:
    """Background scenes: faces/ photos with their faces painted out of reach (we only cut
    squares that avoid them), lowlight/ photos brightened by a gamma of 0.5."""
    out = []
    for p in sorted((data / "faces").glob("*.jpg")):
        img = _rgb(p)
        if img is None:
            continue
        s = 640 / max(img.shape[:2])
        img = cv2.resize(img, None, fx=s, fy=s, interpolation=cv2.INTER_AREA) if s < 1 else img
        boxes = [d.box for d in detector.detect(img) if d.score >= 0.5]
        out.append((img, boxes))
    for p in sorted((data / "lowlight").iterdir()):
        img = _rgb(p)
        if img is None:
            continue
        s = 640 / max(img.shape[:2])
        img = cv2.resize(img, None, fx=s, fy=s, interpolation=cv2.INTER_AREA) if s < 1 else img
        img = (255 * (img / 255.0) ** 0.5).astype(np.uint8)
        out.append((img, []))
    return out


def scene_crop(sources, rng: np.random.Generator) -> np.ndarray:
    for _ in range(50):
        img, boxes = sources[int(rng.integers(len(sources)))]
        h, w = img.shape[:2]
        side = int(rng.integers(min(h, w) // 2, min(h, w) + 1))
        x, y = int(rng.integers(0, w - side + 1)), int(rng.integers(0, h - side + 1))
        if all(min(x + side, b[2]) <= max(x, b[0]) or min(y + side, b[3]) <= max(y, b[1]) for b in boxes):
            return cv2.resize(img[y:y + side, x:x + side], (SCENE, SCENE), interpolation=cv2.INTER_AREA)
    return np.full((SCENE, SCENE, 3), 128, np.uint8)


def build_snapshot(utk: Path, out: Path) -> dict[str, int]:
    from facecommons.evaluation.importers import Skip, read_utkface
    from ml.registry import create_model

    det = create_model("retinaface-mobilenet")
    sources = scene_sources(utk.parent, det)
    yy, xx = np.mgrid[0:200, 0:200].astype(np.float32)
    alpha = np.clip((1.0 - np.hypot((xx - 99.5) / 100, (yy - 99.5) / 110)) * 6, 0, 1)[..., None]
    records = [r for r in read_utkface(utk) if not isinstance(r, Skip)]
    rng = np.random.default_rng(0)
    cells: dict[str, list[int]] = {}
    for i, r in enumerate(records):
        cells.setdefault(f"{r.categories['gender']}/{r.categories['ethnicity'][0]}", []).append(i)
    split_of: dict[int, str] = {}
    for members in cells.values():
        order = rng.permutation(members)
        n = len(order)
        for j, idx in enumerate(order):
            split_of[int(idx)] = "train" if j < 0.7 * n else "validation" if j < 0.8 * n else "test"
    rows: dict[str, list[dict]] = {"train": [], "validation": [], "test": []}
    counts = {"photos": 0, "no_face": 0}
    (out / "crops" / "112").mkdir(parents=True, exist_ok=True)
    for i, r in enumerate(records):
        chip = _rgb(r.path)
        if chip is None or chip.shape[:2] != (200, 200):
            continue
        faces = [d for d in det.detect(chip) if d.score >= 0.9]
        if not faces or len(faces[0].landmarks) != 5:
            counts["no_face"] += 1
            continue
        d = max(faces, key=lambda f: (f.box[2] - f.box[0]) * (f.box[3] - f.box[1]))
        prng = np.random.default_rng([1, i])
        scene = scene_crop(sources, prng).astype(np.float32)
        side = int(prng.integers(80, 129))
        x0, y0 = int(prng.integers(0, SCENE - side + 1)), int(prng.integers(0, SCENE - side + 1))
        s = side / 200
        small = cv2.resize(chip, (side, side), interpolation=cv2.INTER_AREA).astype(np.float32)
        a = cv2.resize(alpha, (side, side))[..., None]
        scene[y0:y0 + side, x0:x0 + side] = a * small + (1 - a) * scene[y0:y0 + side, x0:x0 + side]
        img = np.clip(scene, 0, 255).astype(np.uint8)
        ok, buf = cv2.imencode(".jpg", cv2.cvtColor(img, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 90])
        data = buf.tobytes()
        sha = hashlib.sha256(data).hexdigest()
        split = split_of[i]
        box = [min(SCENE, max(0.0, x0 + v * s)) if k % 2 == 0 else min(SCENE, max(0.0, y0 + v * s))
               for k, v in enumerate(d.box)]
        lms = [[x0 + x * s, y0 + y * s] for x, y in d.landmarks]
        (out / split).mkdir(exist_ok=True)
        (out / split / f"{sha}.jpg").write_bytes(data)
        crop = align_face(img, np.asarray(lms), 112)
        ok, cbuf = cv2.imencode(".jpg", cv2.cvtColor(crop, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 90])
        (out / "crops" / "112" / f"{sha}.jpg").write_bytes(cbuf.tobytes())
        rows[split].append({"file_name": f"{sha}.jpg", "subject_id": f"utk-{i}", **r.categories, "skin_tone": "",
                            "has_face": True, "face_box": box, "face_landmarks": lms, "face_score": float(d.score),
                            "crop_112": f"crops/112/{sha}.jpg", "crop_224": "", "sha256": sha, "width": SCENE,
                            "height": SCENE, "low_light": False, "enhanced": False})
        counts["photos"] += 1
    for split, rs in rows.items():
        (out / split / "metadata.jsonl").write_text("".join(json.dumps(x) + "\n" for x in rs))
    return counts


def fmt(est, lo, hi) -> str:
    if est is None:
        return "n/a"
    return f"{100 * est:5.1f}% [{100 * lo:4.1f}, {100 * hi:4.1f}]"


def cell_name(value: str) -> str:
    return value.replace("gender=", "").replace("ethnicity=", "").replace("&", " ")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    # ../shared from the main checkout, ../../shared from a worktree under wt/
    default_utk = next((d for d in (ROOT.parent / "shared" / "data" / "utk", ROOT.parents[1] / "shared" / "data" / "utk")
                        if d.is_dir()), ROOT.parent / "shared" / "data" / "utk")
    ap.add_argument("--utk", type=Path, default=default_utk)
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--category-epochs", type=int, default=10)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--target-fpr", type=float, default=0.01,
                    help="false positives allowed on validation backgrounds (sets the detector threshold)")
    ap.add_argument("--backgrounds", type=int, default=4, help="background patches per photo")
    ap.add_argument("--keep", type=Path, default=None, help="build the snapshot here and keep it")
    args = ap.parse_args()
    if not args.utk.is_dir():
        sys.exit(f"{args.utk} is not a folder: pass --utk /path/to/shared/data/utk")
    t_all = time.perf_counter()
    work = args.keep or Path(tempfile.mkdtemp(prefix="fc-train-ref-"))
    root = work / "facecommons"
    t = time.perf_counter()
    if (root / "test" / "metadata.jsonl").exists():
        print(f"snapshot: reusing {root}")
    else:
        counts = build_snapshot(args.utk, root)
        print(f"snapshot: {counts['photos']} photos, {counts['no_face']} without a face found, "
              f"{time.perf_counter() - t:.0f} s")
    snap = load_snapshot(work)
    print(f"load: {len(snap.photos)} photos, categories {', '.join(snap.categories)}; cpu threads {args.threads}, "
          f"load average before training {os.getloadavg()[0]:.1f}")

    skewed = Policy("skewed", CELL, ("gender=man&ethnicity=white",))
    n_skew = len(sample([p for p in snap.split("train") if p.box], skewed, seed=args.seed))
    balanced = Policy("balanced", CELL, max_photos=n_skew)
    results = {}
    for name, pol in (("skewed", skewed), ("balanced", balanced)):
        t = time.perf_counter()
        cfg = TrainConfig(task="face-vs-background", policy=pol, seed=args.seed, epochs=args.epochs, batch_size=64,
                          target_fpr=args.target_fpr, backgrounds_per_photo=args.backgrounds)
        res = train(snap, cfg, Hooks(threads=args.threads))
        results[name] = res
        h = res.history[-1]
        print(f"face-vs-background {name}: {len(res.training_set)} training photos "
              f"({res.summary['train_backgrounds']} backgrounds), final loss {h['loss']:.3f}, {h['validation_name']} "
              f"{h['validation']:.3f}, {time.perf_counter() - t:.0f} s")
    print(f"\nface-vs-background: miss rate on the test split at {100 * args.target_fpr:g}% false positives on "
          "validation backgrounds")
    print(f"{'group':28} {'n':>4}  {'trained on White men only':>26}  {'balanced, same size':>26}  "
          f"{'difference':>26}")
    groups = sorted({r.value for r in results["skewed"].rows if r.category == CELL and r.metric == "miss_rate"})
    for cat, g in [("all", "all")] + [(CELL, g) for g in groups]:
        a = find(results["skewed"].rows, category=cat, value=g, metric="miss_rate")
        b = find(results["balanced"].rows, category=cat, value=g, metric="miss_rate")
        if a is None or b is None or a.estimate is None or b.estimate is None:
            continue
        d, lo, hi = difference_interval(round(a.estimate * a.n), a.n, round(b.estimate * b.n), b.n)
        print(f"{cell_name(g):28} {a.n:4d}  {fmt(a.estimate, a.ci_low, a.ci_high):>26}  "
              f"{fmt(b.estimate, b.ci_low, b.ci_high):>26}  {fmt(d, lo, hi):>26}")
    for name in ("skewed", "balanced"):
        r = find(results[name].rows, category=CELL, value=SUMMARY, metric="miss_rate_ratio")
        fp = find(results[name].rows, category="all", value="all", metric="background_false_positive_rate")
        ratio = "n/a" if r is None or r.estimate is None else f"{r.estimate:.2f} [{r.ci_low:.2f}, {r.ci_high:.2f}]"
        fpr = "n/a" if fp is None or fp.estimate is None else fmt(fp.estimate, fp.ci_low, fp.ci_high)
        print(f"{name}: worst/best miss-rate ratio over gender x race {ratio}; test background FPR {fpr}")

    t = time.perf_counter()
    cfg = TrainConfig(task="category", category="gender", seed=args.seed, epochs=args.category_epochs, batch_size=64)
    res = train(snap, cfg, Hooks(threads=args.threads))
    h = res.history[-1]
    print(f"\ncategory gender (as the snapshot is): {len(res.training_set)} training photos, final loss {h['loss']:.3f}, "
          f"validation accuracy {h['validation']:.3f}, {time.perf_counter() - t:.0f} s")
    print(f"{'group':28} {'n':>4}  {'accuracy':>26}")
    for cat, g in [("all", "all"), ("gender", "man"), ("gender", "woman")] + [
            (CELL, g) for g in sorted({r.value for r in res.rows if r.category == CELL and r.metric == "accuracy"})]:
        r = find(res.rows, category=cat, value=g, metric="accuracy")
        if r is not None:
            print(f"{cell_name(g):28} {r.n:4d}  {fmt(r.estimate, r.ci_low, r.ci_high):>26}")
    gn = find(res.rows, category="gender", value=SUMMARY, metric="gn_score")
    if gn is not None and gn.estimate is not None:
        print(f"gender-neutral score mean(acc_men, acc_women) - |acc_men - acc_women|: {gn.estimate:.3f} "
              f"[{gn.ci_low:.3f}, {gn.ci_high:.3f}]")
    print(f"\ntotal {time.perf_counter() - t_all:.0f} s; load average now {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
