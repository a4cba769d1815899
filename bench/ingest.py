"""Ingest throughput: the pipeline's work on phone-size photos vs a naive baseline, same run.

    .venv/bin/python bench/ingest.py [--n 16] [--repeat 3] [--dark-every 0] [--faces ../shared/data/faces]

Photos: 4032x3024 (or 3024x4032) JPEGs (q90) made by upscaling ``../shared/data/faces``
(generated from scikit-image's astronaut when that folder is absent). Both paths run
in-process on one thread (a worker child per core is the deployment), without the broker or
database, so the figure is the image work a worker does per photo.

- pipeline: ``facecommons.pipeline.analysis.analyse_photo`` exactly as the worker calls it:
  reduced DCT decode for assessment and detection (long side ~1008 px), full decode only for
  a dark photo's enhanced copy, crops from the smallest sufficient DCT scale, thumbnail and
  crops encoded.
- pipeline without the cascade: the same with ``Thresholds(cascade_side=0)`` (every photo gets
  the full detection pass at ~1008 px), to show what the cascade itself buys.
- naive: full-resolution decode (OpenCV) for each step (no reuse), RetinaFace on the full 12 MP image,
  enhancement (when dark) at full resolution and detection on the full enhanced image, crops
  and thumbnail from another full decode.

Agreement: the number of faces (score >= 0.9) each path finds, photo by photo.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
# Run as a script, bench/ would be first on sys.path, and a bench/<name>.py could shadow a
# standard module (bench/queue.py shadows ``queue``, which torch imports).
sys.path = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path[:0] = [str(ROOT / "platform"), str(ROOT)]

import cv2  # noqa: E402

from enhancement import assess  # noqa: E402
from facecommons.pipeline.analysis import Thresholds, analyse_photo  # noqa: E402
from ml.align import align_face  # noqa: E402
from ml.imageio import encode_jpeg, resize_long_side  # noqa: E402
from ml.registry import create_model  # noqa: E402


def default_faces() -> Path:
    # ../shared/data/faces from the main checkout; ../../shared/data/faces from a worktree under wt/.
    for base in (ROOT.parent, ROOT.parent.parent):
        if (base / "shared" / "data" / "faces").is_dir():
            return base / "shared" / "data" / "faces"
    return ROOT.parent / "shared" / "data" / "faces"


FACES = default_faces()
PHONE = (4032, 3024)


def phone_jpeg(img: Image.Image) -> bytes:
    w, h = img.size
    size = PHONE if w >= h else PHONE[::-1]
    # Cover-crop to 4:3, then upscale (Lanczos) to 12 MP.
    target_ratio = size[0] / size[1]
    if w / h > target_ratio:
        cw = int(h * target_ratio)
        img = img.crop(((w - cw) // 2, 0, (w - cw) // 2 + cw, h))
    else:
        ch = int(w / target_ratio)
        img = img.crop((0, (h - ch) // 2, w, (h - ch) // 2 + ch))
    img = img.convert("RGB").resize(size, Image.Resampling.LANCZOS)
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=90)
    return buf.getvalue()


def darken(data: bytes, factor: float = 0.05, seed: int = 0) -> bytes:
    rgb = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"), dtype=np.float32) / 255.0
    rng = np.random.default_rng(seed)
    lin = rgb**2.2 * factor + rng.normal(0, 0.002, rgb.shape).astype(np.float32)
    out = (np.clip(lin, 0, 1) ** (1 / 2.2) * 255 + 0.5).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(out).save(buf, "JPEG", quality=90)
    return buf.getvalue()


def make_photos(n: int, dark_every: int, faces: Path = FACES) -> tuple[list[bytes], list[int], str]:
    """Phone-size JPEGs, the number of faces each shows, and where they came from."""
    sources: list[Image.Image] = []
    expected: list[int] = []
    origin = f"{faces} (upscaled)"
    if faces.is_dir():
        files = sorted(p for p in faces.glob("*.jpg") if "selfie-many" not in p.name)
        for p in files[:n]:
            sources.append(Image.open(p))
            # The data README: couple.jpg shows two people, every img*.jpg one.
            expected.append(2 if p.name == "couple.jpg" else 1)
    if not sources:
        from skimage import data

        origin = "scikit-image astronaut, shifted and scaled (../shared/data/faces absent)"
        base = Image.fromarray(data.astronaut())
        for i in range(n):
            s = 0.6 + 0.1 * (i % 5)
            sources.append(base.resize((int(512 * s), int(512 * s))).rotate(i * 3))
            expected.append(1)
    photos = [phone_jpeg(im) for im in sources]
    if dark_every:
        photos = [darken(p, seed=i) if (i % dark_every == dark_every - 1) else p for i, p in enumerate(photos)]
    return photos, expected, origin


def count(dets: list, min_score: float = 0.9) -> int:
    return sum(1 for d in dets if d.score >= min_score)


def full_decode(data: bytes) -> np.ndarray:
    # OpenCV's full decode (3x faster than Pillow's here), so the baseline is not slowed by the decoder choice.
    return cv2.cvtColor(cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


def naive(data: bytes, detector_full, enhancer) -> int:
    """Full decode per step, RetinaFace on the full image, full-resolution enhancement."""
    full = full_decode(data)
    report = assess(full)
    full = full_decode(data)  # no reuse of the decode
    dets = detector_full.detect(full)
    n = count(dets)
    faces = [d for d in dets if d.score >= 0.9]
    if report.is_low_light:
        enhanced = enhancer.enhance(full)
        edets = detector_full.detect(enhanced)
        if n == 0:
            n = count(edets)
            faces = [d for d in edets if d.score >= 0.9]
        encode_jpeg(enhanced, 90)
    full = full_decode(data)
    encode_jpeg(resize_long_side(full, 320)[0], 85)
    if len(faces) == 1 and len(faces[0].landmarks) == 5:
        encode_jpeg(align_face(full, faces[0].landmarks, 112), 95)
        encode_jpeg(align_face(full, faces[0].landmarks, 224), 95)
    return n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=16, help="photos (default 16)")
    ap.add_argument("--repeat", type=int, default=3, help="passes of the pipeline path (default 3)")
    ap.add_argument("--dark-every", type=int, default=0, help="darken every k-th photo (x0.05 light + noise)")
    ap.add_argument("--enhancer", default="zero-dce++")
    ap.add_argument("--faces", type=Path, default=default_faces(), help="folder of face photos (default ../shared/data/faces)")
    args = ap.parse_args()

    cv2.setNumThreads(1)
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:
        pass
    print(f"making {args.n} phone-size photos ...", flush=True)
    photos, expected, origin = make_photos(args.n, args.dark_every, args.faces)
    mb = sum(len(p) for p in photos) / len(photos) / 1e6
    print(f"photos: {len(photos)} x {PHONE[0]}x{PHONE[1]} JPEG q90 (mean {mb:.1f} MB) from {origin}")

    detector = create_model("retinaface-mobilenet", threads=1)
    detector_full = create_model("retinaface-mobilenet", threads=1, max_side=0)
    try:
        enhancer = create_model(args.enhancer)
    except Exception as exc:  # noqa: BLE001
        print(f"enhancer {args.enhancer} unavailable ({exc}); using clahe")
        enhancer = create_model("clahe")

    def factory():
        return enhancer

    # Warm-up (sessions, caches) outside the timings.
    cascade, no_cascade = Thresholds(), Thresholds(cascade_side=0)
    analyse_photo(photos[0], detector=detector, enhancer_factory=factory, assess=assess, thresholds=cascade)
    naive(photos[0], detector_full, enhancer)

    # Interleaved, photo by photo, so both paths see the same load on a shared machine. Both
    # wall-clock and CPU time (of this single-threaded process) are recorded: CPU time is the
    # work itself, hardly disturbed by other processes competing for the cores.
    fast_counts: list[int] = []
    full_counts: list[int] = []
    full_times: list[float] = []
    full_cpu: list[float] = []
    verdicts: list[str] = []
    naive_counts: list[int] = []
    fast_times: list[float] = []
    fast_cpu: list[float] = []
    naive_times: list[float] = []
    naive_cpu: list[float] = []
    for p in photos:
        for r in range(args.repeat):
            t0, c0 = time.perf_counter(), time.process_time()
            res = analyse_photo(p, detector=detector, enhancer_factory=factory, assess=assess, thresholds=cascade)
            fast_times.append(time.perf_counter() - t0)
            fast_cpu.append(time.process_time() - c0)
            t0, c0 = time.perf_counter(), time.process_time()
            res_full = analyse_photo(p, detector=detector, enhancer_factory=factory, assess=assess,
                                     thresholds=no_cascade)
            full_times.append(time.perf_counter() - t0)
            full_cpu.append(time.process_time() - c0)
            if r == 0:
                fast_counts.append(res.faces_found)
                full_counts.append(res_full.faces_found)
                verdicts.append(f"{res.route} {','.join(res.findings)}"
                                f"{' (cheap pass)' if 'detect_cheap' in res.timings_ms and 'detect' not in res.timings_ms else ''}")
        t0, c0 = time.perf_counter(), time.process_time()
        naive_counts.append(naive(p, detector_full, enhancer))
        naive_times.append(time.perf_counter() - t0)
        naive_cpu.append(time.process_time() - c0)

    fast_pps = len(fast_times) / sum(fast_times)
    naive_pps = len(naive_times) / sum(naive_times)
    fast_cpu_pps = len(fast_cpu) / sum(fast_cpu)
    naive_cpu_pps = len(naive_cpu) / sum(naive_cpu)
    full_pps = len(full_times) / sum(full_times)
    full_cpu_pps = len(full_cpu) / sum(full_cpu)
    agree = sum(a == b for a, b in zip(fast_counts, naive_counts, strict=True))
    agree_full = sum(a == b for a, b in zip(fast_counts, full_counts, strict=True))
    fast_right = sum(a == e for a, e in zip(fast_counts, expected, strict=True))
    naive_right = sum(b == e for b, e in zip(naive_counts, expected, strict=True))
    print()
    print("photo  faces shown  faces(pipeline)  faces(no cascade)  faces(naive)  verdict")
    for i, (e, a, f, b, v) in enumerate(zip(expected, fast_counts, full_counts, naive_counts, verdicts, strict=True)):
        print(f"{i:5d}  {e:11d}  {a:15d}  {f:17d}  {b:12d}  {v}{'' if a == b else '   <- differs from naive'}")
    print()
    print("            wall-clock photos/s   (median ms/photo)   CPU-time photos/s   (median CPU ms/photo)")
    print(f"pipeline:   {fast_pps:17.2f}   ({statistics.median(fast_times) * 1000:15.1f})   {fast_cpu_pps:17.2f}   "
          f"({statistics.median(fast_cpu) * 1000:19.1f})   {len(fast_times)} runs")
    print(f"no cascade: {full_pps:17.2f}   ({statistics.median(full_times) * 1000:15.1f})   {full_cpu_pps:17.2f}   "
          f"({statistics.median(full_cpu) * 1000:19.1f})   {len(full_times)} runs")
    print(f"naive:      {naive_pps:17.2f}   ({statistics.median(naive_times) * 1000:15.1f})   {naive_cpu_pps:17.2f}   "
          f"({statistics.median(naive_cpu) * 1000:19.1f})   {len(naive_times)} runs")
    print(f"speed-up: {fast_pps / naive_pps:.1f}x wall-clock, {fast_cpu_pps / naive_cpu_pps:.1f}x CPU time "
          f"(without the cascade: {full_pps / naive_pps:.1f}x, {full_cpu_pps / naive_cpu_pps:.1f}x)")
    print(f"face count, pipeline == pipeline without the cascade: {agree_full}/{len(photos)} photos")
    print(f"face count, pipeline == naive: {agree}/{len(photos)} photos; equal to the faces shown: "
          f"pipeline {fast_right}/{len(photos)}, naive {naive_right}/{len(photos)}")


if __name__ == "__main__":
    main()
