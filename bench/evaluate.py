"""Evaluation benchmark: full run vs incremental re-run, per-model throughput vs a naive loop,
and a real-data verification check.

    .venv/bin/python bench/evaluate.py [--n 300] [--models retinaface-mobilenet,dlib-hog,dlib-resnet]
                                       [--throughput 40] [--data ../shared/data/faces]

(a) A full evaluation (scope: an external source) of ``--n`` photos with ``--models``, through
    the same services a worker runs (chunks, results cache, metrics), on a throw-away test
    database; then 1% more photos are imported and the run is repeated in the same process.
    Target: the re-run costs at most 5% of the full run.
(b) Photos per second per model: the engine (each photo read and decoded once, at long side
    ≤ 1024 through Pillow's draft(), all models on the same array) against a naive loop that
    reads and fully decodes each photo again for each model.
(c) dlib-resnet on the ``master.csv`` pairs of ``faces/`` (300 pairs, "Yes" = same person):
    FMR and FNMR at the model's threshold 0.6 with Wilson intervals.

Photos come from ``../shared/data/faces`` (62 photos of public figures, deepface test set);
beyond 62, variants are made (mirror, crop, brightness, scale) so that every photo has new
bytes. Their demographic labels are assigned at random (seeded): (a) measures cost, not bias.
Without the data folder, (a) and (b) run on scikit-image's astronaut and (c) is skipped.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# bench/ holds other scripts (one is named queue.py): keep them from shadowing the standard library.
sys.path[:] = [p for p in sys.path if p not in ("", str(Path(__file__).resolve().parent), __file__.rsplit("/", 1)[0])]
sys.path[:0] = [str(ROOT / "platform"), str(ROOT)]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django  # noqa: E402

django.setup()

import numpy as np  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from PIL import Image, ImageEnhance, ImageOps  # noqa: E402

GENDERS = ["woman", "man"]
ETHNICITIES = ["black", "east_asian", "south_asian", "white", "hispanic_latino", "mena"]


def base_images(data: Path) -> tuple[list[Image.Image], list[str]]:
    files = sorted(p for p in data.glob("img*.jpg")) if data.is_dir() else []
    if files:
        return [Image.open(p).convert("RGB") for p in files], subjects_from_master(data, [p.name for p in files])
    from skimage import data as skdata

    return [Image.fromarray(skdata.astronaut())], ["astronaut"]


def variant(img: Image.Image, k: int) -> Image.Image:
    """The k-th variant of a photo (k = 0 is the photo itself): new bytes, same face."""
    if k == 0:
        return img
    rng = random.Random(k)
    out = ImageOps.mirror(img) if k % 2 else img
    w, h = out.size
    c = rng.uniform(0.0, 0.06)
    out = out.crop((int(w * c), int(h * c), int(w * (1 - c)), int(h * (1 - c))))
    out = ImageEnhance.Brightness(out).enhance(rng.uniform(0.8, 1.2))
    s = rng.uniform(0.85, 1.0)
    return out.resize((max(64, int(out.width * s)), max(64, int(out.height * s))))


def subjects_from_master(data: Path, names: list[str]) -> list[str]:
    """Person ids: photos joined by a "Yes" pair of master.csv are the same person (union-find)."""
    parent = {n: n for n in names}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    master = data / "master.csv"
    if master.exists():
        with master.open() as fh:
            for r in csv.DictReader(fh):
                a, b = r["file_x"], r["file_y"]
                if r["Decision"].strip() == "Yes" and a in parent and b in parent:
                    parent[find(a)] = find(b)
    return [find(n) for n in names]


def write_photos(folder: Path, bases: list[Image.Image], subjects: list[str], start: int, stop: int) -> Path:
    """Photos start..stop-1 as JPEGs plus a generic CSV of (random, seeded, per person) labels."""
    rng = random.Random(1234)
    people = sorted(set(subjects))
    labels = {p: (rng.choice(GENDERS), rng.choice(ETHNICITIES), str(rng.randint(1, 10))) for p in people}
    rows = ["file,subject,age_range,gender,ethnicity,skin_tone"]
    for i in range(start, stop):
        b = i % len(bases)
        img = variant(bases[b], i // len(bases))
        name = f"p{i:05d}.jpg"
        img.save(folder / name, "JPEG", quality=90)
        g, e, t = labels[subjects[b]]
        rows.append(f"{name},{subjects[b].removesuffix('.jpg')},25_34,{g},{e},{t}")
    path = folder / f"labels_{start}_{stop}.csv"
    path.write_text("\n".join(rows) + "\n")
    return path


def timed_run(models: list[str], source: str) -> tuple[float, float, object]:
    from facecommons.evaluation import services
    from facecommons.evaluation.models import ChunkStatus

    t0 = time.perf_counter()
    run = services.evaluation_run_start(scope="source", source_name=source, models=models, trigger="bench")
    for chunk in run.chunks.filter(status=ChunkStatus.PENDING).order_by("index"):
        services.chunk_process(chunk_id=chunk.pk)
    t_models = time.perf_counter() - t0
    services.run_try_begin_finalise(run_id=run.pk)
    run = services.run_finalise(run_id=run.pk)
    return time.perf_counter() - t0, t_models, run


def throughput(models: list[str], keys: list[str]) -> None:
    """(b): engine (decode once) vs naive (re-read and fully decode for each model)."""
    from facecommons.common.storage import private_storage
    from facecommons.evaluation import engine
    from ml.imageio import decode

    specs, _ = engine.resolve_models(models)
    storage = private_storage()
    per_model = {s.id: 0.0 for s in specs}
    t_decode = 0.0
    t0 = time.perf_counter()
    for key in keys:
        t = time.perf_counter()
        with storage.open(key, "rb") as fh:
            data = fh.read()
        dec = decode(data, max_side=engine.DECODE_SIDE, min_side=int(engine.DECODE_SIDE * 0.75))
        t_decode += time.perf_counter() - t
        face = None
        for s in specs:
            t = time.perf_counter()
            if s.task == "detection":
                dets = engine.get_model(s.id, "detection").detect(dec.rgb)
                if s.id == engine.FACE_DETECTOR and dets:
                    face = dets[0]
            else:
                if face is None:
                    dets = engine.get_model(engine.FACE_DETECTOR, "detection").detect(dec.rgb)
                    face = dets[0] if dets else None
                if face is not None:
                    engine.get_model(s.id, "verification").embed(dec.rgb, face)
            per_model[s.id] += time.perf_counter() - t
    t_engine = time.perf_counter() - t0

    naive = {}
    t0 = time.perf_counter()
    for s in specs:
        t1 = time.perf_counter()
        for key in keys:
            with storage.open(key, "rb") as fh:
                data = fh.read()
            rgb = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))  # full decode, every time
            if s.task == "detection":
                engine.get_model(s.id, "detection").detect(rgb)
            else:
                dets = engine.get_model(engine.FACE_DETECTOR, "detection").detect(rgb)
                if dets:
                    engine.get_model(s.id, "verification").embed(rgb, dets[0])
        naive[s.id] = time.perf_counter() - t1
    t_naive = time.perf_counter() - t0
    n = len(keys)
    print(f"\n(b) throughput on {n} photos (same process):")
    print(f"    {'model':24s} {'engine photos/s':>16s} {'naive photos/s':>15s}")
    for s in specs:
        print(f"    {s.id:24s} {n / per_model[s.id]:16.1f} {n / naive[s.id]:15.1f}")
    print(f"    decode once (≤1024 px, draft): {1000 * t_decode / n:.1f} ms/photo")
    print(f"    all models: engine {n / t_engine:.2f} photos/s, naive {n / t_naive:.2f} photos/s "
          f"({t_naive / t_engine:.2f}x)")


def real_pairs(data: Path) -> None:
    """(c): dlib-resnet on master.csv pairs at threshold 0.6."""
    from ml.imageio import decode
    from ml.metrics import wilson
    from ml.registry import create_model

    master = data / "master.csv"
    if not master.exists():
        print("\n(c) skipped: no master.csv")
        return
    det = create_model("retinaface-mobilenet")
    ver = create_model("dlib-resnet")
    emb: dict[str, np.ndarray | None] = {}

    def embedding(name: str) -> np.ndarray | None:
        if name not in emb:
            rgb = decode((data / name).read_bytes(), max_side=1024).rgb
            faces = [d for d in det.detect(rgb) if d.score >= 0.9]
            face = max(faces, key=lambda d: (d.box[2] - d.box[0]) * (d.box[3] - d.box[1])) if faces else None
            emb[name] = ver.embed(rgb, face) if face is not None else None
        return emb[name]

    with master.open() as fh:
        pairs = [(r["file_x"], r["file_y"], r["Decision"].strip() == "Yes") for r in csv.DictReader(fh)]
    fm = fnm = n_imp = n_gen = skipped = 0
    dists_g, dists_i = [], []
    for a, b, same in pairs:
        ea, eb = embedding(a), embedding(b)
        if ea is None or eb is None:
            skipped += 1
            continue
        d = ver.distance(ea, eb)
        if same:
            n_gen += 1
            fnm += d > ver.threshold
            dists_g.append(d)
        else:
            n_imp += 1
            fm += d <= ver.threshold
            dists_i.append(d)
    from ml.metrics import equal_error_rate

    lo, hi = wilson(fm, n_imp)
    glo, ghi = wilson(fnm, n_gen)
    print(f"\n(c) dlib-resnet on master.csv ({len(pairs)} pairs, {skipped} without a face found), threshold 0.6:")
    print(f"    FMR  {fm}/{n_imp} = {fm / max(1, n_imp):.4f}  95% Wilson [{lo:.4f}, {hi:.4f}]")
    print(f"    FNMR {fnm}/{n_gen} = {fnm / max(1, n_gen):.4f}  95% Wilson [{glo:.4f}, {ghi:.4f}]")
    print(f"    EER {equal_error_rate(np.array(dists_g), np.array(dists_i)):.4f}; genuine distance median "
          f"{np.median(dists_g):.3f} max {np.max(dists_g):.3f}; impostor min {np.min(dists_i):.3f} median "
          f"{np.median(dists_i):.3f}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--models", default="retinaface-mobilenet,dlib-hog,dlib-resnet")
    ap.add_argument("--throughput", type=int, default=40, help="photos for (b)")
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "faces"))
    args = ap.parse_args()
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:  # pragma: no cover
        pass
    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0)
    try:
        run(args)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


def run(args: argparse.Namespace) -> None:
    from django.test import override_settings

    from facecommons.evaluation import services
    from facecommons.evaluation.models import ExternalImage

    data = Path(args.data)
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    bases, subjects = base_images(data)
    extra = max(1, round(args.n * 0.01))
    print(f"Evaluation bench: {args.n} photos (+{extra}), models {', '.join(models)}; "
          f"{len(bases)} base photos of {len(set(subjects))} people from "
          f"{data if data.is_dir() else 'skimage astronaut'}")
    with tempfile.TemporaryDirectory() as tmp, override_settings(EVAL_MIN_GROUP_SIZE=10):
        folder = Path(tmp)
        csv1 = write_photos(folder, bases, subjects, 0, args.n)
        services.external_source_import(fmt="csv", path=csv1, name="bench", licence="see ../shared/data/README.md",
                                        provenance="serengil/deepface tests/unit/dataset + variants")
        t_full, t_full_models, run1 = timed_run(models, "bench")
        print(f"\n(a) full run:  {t_full:7.2f} s  (models {t_full_models:.2f} s, metrics {t_full - t_full_models:.2f} s); "
              f"{run1.computed} results computed, {run1.reused} reused, {run1.metrics.count()} metric rows")
        csv2 = write_photos(folder, bases, subjects, args.n, args.n + extra)
        services.external_source_import(fmt="csv", path=csv2, name="bench", licence="", provenance="")
        t_re, t_re_models, run2 = timed_run(models, "bench")
        print(f"    re-run +{extra} photos: {t_re:7.2f} s  (models {t_re_models:.2f} s, metrics "
              f"{t_re - t_re_models:.2f} s); {run2.computed} computed, {run2.reused} reused")
        print(f"    re-run / full run = {100 * t_re / t_full:.1f}% (target ≤ 5%)")
        for m in run2.model_specs:
            s = run2.summary["models"].get(m["id"], {})
            print(f"    {m['id']}: {s}")
        keys = list(ExternalImage.objects.order_by("pk").values_list("key", flat=True)[: args.throughput])
        throughput(models, keys)
    if data.is_dir():
        real_pairs(data)


if __name__ == "__main__":
    main()
