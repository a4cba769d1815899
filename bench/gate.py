"""The front door, per group: what the pipeline does with realistic photos, and with ruined ones.

    nice -n 5 .venv/bin/python bench/gate.py [--per-cell 400] [--skip 0] [--no-faces] [--data ../shared/data] [--csv gate.csv]
    .venv/bin/python bench/gate.py --from-csv gate.csv [--skip 30]  # the tables again, no re-run

Photos: ``utk/`` (4,000 adults, 400 per race x gender cell; ``--per-cell N`` takes a seeded
random N of each cell, a stratified subset) and the single-face photos of ``faces/`` (plus
``couple.jpg``, two people, as a natural two-face photo). Each photo is stored as the upload
normaliser stores it (metadata-free JPEG q92) and given to
``facecommons.pipeline.analysis.analyse_photo`` exactly as the worker calls it (RetinaFace-
MobileNet, one thread, Zero-DCE++ when low light, the default ``Thresholds``), as:

- ``as_is``: the photo itself;
- ``phone``: placed on a canvas twice its size (edges replicated, as a webcam or phone frames a
  face with background), upscaled 4x (bicubic) and encoded as JPEG q85 (a phone's soft,
  upscaled, compressed file);
- ``dark03`` / ``dark015``: the photo at 3% / 1.5% of its light with shot and read noise and
  JPEG q85 (``enhancement.degrade.darken``, the model of FINDINGS);
and, deliberately ruined (each expected to carry one finding):
- ``blur4`` / ``blur8``: Gaussian blur with sigma 4% / 8% of the face box width -> ``soft``;
- ``cut``: a third of the face box cut away at one edge (left, right, top, bottom in turn)
  -> ``face_cut_off``;
- ``noface``: the photo cut into 6x6 tiles, shuffled, each flipped or turned -> ``no_face``;
- ``two``: the photo beside another photo of the same cell -> ``multiple_faces``.

The face box that sizes the blur and the cut is the one the pipeline found on ``as_is``; a
photo without one gets no ruined copies (counted in the table). Targets (issue 13): >= 97% of
``as_is`` and ``phone`` reach review (route ``review``), the worst cell >= 95%; >= 95% of
``dark015``; >= 95% of ruined copies carry their finding. One thread; run it niced.
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# Run as a script, bench/ would be first on sys.path and could shadow a standard module.
sys.path = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path[:0] = [str(ROOT / "platform"), str(ROOT)]

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from enhancement import assess  # noqa: E402
from enhancement.degrade import darken, jpeg_roundtrip  # noqa: E402
from facecommons.pipeline.analysis import Thresholds, analyse_photo  # noqa: E402
from ml.imageio import encode_jpeg  # noqa: E402
from ml.registry import create_model  # noqa: E402

RACES = {"0": "White", "1": "Black", "2": "Asian", "3": "Indian", "4": "Others"}
GENDERS = {"0": "men", "1": "women"}
REACH = ("as_is", "phone", "dark03", "dark015")
RUINED = {"blur4": "soft", "blur8": "soft", "cut": "face_cut_off", "noface": "no_face", "two": "multiple_faces"}
VARIANTS = REACH + tuple(RUINED)
MEASURES = ("count", "score", "short_side_px", "sharpness", "noise", "brightness", "highlight", "outside_share",
            "face_scale")
STORED_QUALITY = 92  # facecommons.contributions.upload.JPEG_QUALITY (not imported: it needs Django)


def default_data() -> Path:
    # ../shared/data from the main checkout; ../../shared/data from a worktree under wt/.
    for base in (ROOT.parent, ROOT.parent.parent):
        if (base / "shared" / "data").is_dir():
            return base / "shared" / "data"
    return ROOT.parent / "shared" / "data"


def read_rgb(path: Path) -> np.ndarray:
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise OSError(f"cannot read {path}")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def phone_like(rgb: np.ndarray) -> np.ndarray:
    h, w = rgb.shape[:2]
    canvas = cv2.copyMakeBorder(rgb, h // 2, h // 2, w // 2, w // 2, cv2.BORDER_REPLICATE)
    # Large photos (faces/) are only brought to a phone's 4032 px long side, never beyond.
    f = min(4.0, 4032 / max(canvas.shape[:2]))
    up = cv2.resize(canvas, (round(canvas.shape[1] * f), round(canvas.shape[0] * f)), interpolation=cv2.INTER_CUBIC)
    return jpeg_roundtrip(up, 85)


def blurred(rgb: np.ndarray, box: list[float], frac: float) -> np.ndarray:
    sigma = frac * (box[2] - box[0])
    return cv2.GaussianBlur(rgb, (0, 0), sigma, borderType=cv2.BORDER_REFLECT101)


def cut_off(rgb: np.ndarray, box: list[float], side: int) -> np.ndarray:
    """The photo cropped so that a third of the face box is outside it, at edge ``side``."""
    h, w = rgb.shape[:2]
    x1, y1, x2, y2 = box
    if side == 0:
        return rgb[:, int(round(x1 + (x2 - x1) / 3)):]
    if side == 1:
        return rgb[:, : int(round(x2 - (x2 - x1) / 3))]
    if side == 2:
        return rgb[int(round(y1 + (y2 - y1) / 3)):, :]
    return rgb[: int(round(y2 - (y2 - y1) / 3)), :]


def no_face(rgb: np.ndarray, rng: random.Random, n: int = 6) -> np.ndarray:
    h, w = rgb.shape[:2]
    th, tw = h // n, w // n
    side = min(th, tw)
    tiles = [rgb[r * th: r * th + side, c * tw: c * tw + side] for r in range(n) for c in range(n)]
    rng.shuffle(tiles)
    tiles = [np.rot90(t, rng.randrange(4)) for t in tiles]
    rows = [np.concatenate(tiles[r * n:(r + 1) * n], axis=1) for r in range(n)]
    return np.ascontiguousarray(np.concatenate(rows, axis=0))


def two_faces(rgb: np.ndarray, other: np.ndarray) -> np.ndarray:
    h = rgb.shape[0]
    o = cv2.resize(other, (max(1, round(other.shape[1] * h / other.shape[0])), h), interpolation=cv2.INTER_AREA)
    return np.concatenate([rgb, o], axis=1)


def select(data: Path, per_cell: int, with_faces: bool, skip: int = 0) -> list[dict[str, Any]]:
    """The photos to run, each {source, file, path, race, gender, partner}."""
    out: list[dict[str, Any]] = []
    cells: dict[tuple[str, str], list[str]] = defaultdict(list)
    with open(data / "utk" / "labels.csv", newline="") as fh:
        for row in csv.DictReader(fh):
            cells[(row["race"], row["gender"])].append(row["file"])
    for (race, gender), files in sorted(cells.items()):
        # A seeded order per cell; ``skip`` leaves out its first photos (the calibration set).
        order = random.Random(f"{race}{gender}").sample(sorted(files), len(files))
        chosen = order[skip:skip + per_cell]
        for i, f in enumerate(chosen):
            out.append({"source": "utk", "file": f, "rank": skip + i, "path": data / "utk" / f, "race": RACES[race],
                        "gender": GENDERS[gender], "partner": data / "utk" / chosen[(i + 1) % len(chosen)]})
    if with_faces:
        faces = sorted(p for p in (data / "faces").glob("img*.jpg"))
        for i, p in enumerate(faces):
            out.append({"source": "faces", "file": p.name, "rank": i, "path": p, "race": "", "gender": "",
                        "partner": faces[(i + 1) % len(faces)]})
    return out


def run(photos: list[dict[str, Any]], out_csv: Path | None, data: Path) -> list[dict[str, Any]]:
    cv2.setNumThreads(1)
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:  # pragma: no cover
        pass
    detector = create_model("retinaface-mobilenet", threads=1)
    enhancer = create_model("zero-dce++")
    thresholds = Thresholds()

    def analyse(rgb: np.ndarray) -> Any:
        return analyse_photo(encode_jpeg(rgb, STORED_QUALITY), detector=detector, enhancer_factory=lambda: enhancer,
                             assess=assess, thresholds=thresholds)

    rows: list[dict[str, Any]] = []
    fh = open(out_csv, "w", newline="") if out_csv else None  # noqa: SIM115 - closed below
    writer: csv.DictWriter | None = None
    t_start = time.perf_counter()
    extra = [{"source": "faces", "file": "couple.jpg", "rank": -1, "path": data / "faces" / "couple.jpg", "race": "",
              "gender": "", "variant": "two"}] if any(p["source"] == "faces" for p in photos) else []
    try:
        for i, p in enumerate(photos + extra):
            rgb = read_rgb(p["path"])
            # Seeded by the file name (not hash(): that changes with PYTHONHASHSEED).
            rng = np.random.default_rng(list(p["file"].encode()))
            if "variant" in p:  # a photo that is itself a ruined case (couple.jpg)
                todo = {p["variant"]: rgb}
            else:
                todo = {"as_is": rgb}
            results: dict[str, Any] = {}
            for variant in VARIANTS:
                if variant in todo:
                    img = todo[variant]
                elif "variant" in p:
                    continue
                elif variant == "phone":
                    img = phone_like(rgb)
                elif variant == "dark03":
                    img = darken(rgb, rng, light=0.03)
                elif variant == "dark015":
                    img = darken(rgb, rng, light=0.015)
                elif variant == "noface":
                    img = no_face(rgb, random.Random(p["file"]))
                elif variant == "two":
                    img = two_faces(rgb, read_rgb(p["partner"]))
                else:
                    box = results["as_is"].face.get("box") if results["as_is"].route == "review" else None
                    if not box:
                        continue
                    if variant == "blur4":
                        img = blurred(rgb, box, 0.04)
                    elif variant == "blur8":
                        img = blurred(rgb, box, 0.08)
                    else:
                        img = cut_off(rgb, box, i % 4)
                t0 = time.perf_counter()
                res = analyse(img)
                ms = (time.perf_counter() - t0) * 1000
                results[variant] = res
                row = {"source": p["source"], "file": p["file"], "rank": p["rank"], "race": p["race"], "gender": p["gender"],
                       "variant": variant, "route": res.route, "findings": "|".join(res.findings),
                       "low_light": int(bool(res.lowlight.get("is_low_light"))), "ms": round(ms, 1),
                       "pipeline_ms": res.timings_ms.get("total", ""),
                       "best_score": round(max((d.score for d in res.detections_original + res.detections_enhanced),
                                               default=0.0), 4)}
                row.update({m: res.face.get(m, "") for m in MEASURES})
                row["doubtful_sharpness"] = res.face.get("doubtful", {}).get("sharpness", "")
                rows.append(row)
                if fh is not None:
                    if writer is None:
                        writer = csv.DictWriter(fh, fieldnames=list(row))
                        writer.writeheader()
                    writer.writerow(row)
            if (i + 1) % 50 == 0:
                el = time.perf_counter() - t_start
                print(f"  {i + 1}/{len(photos) + len(extra)} photos, {el:.0f} s", flush=True)
    finally:
        if fh is not None:
            fh.close()
    return rows


def pct(k: int, n: int) -> str:
    return f"{100 * k / n:.1f}% ({k}/{n})" if n else "-"


def tables(rows: list[dict[str, Any]]) -> str:
    """Markdown tables: reach review and flags per cell, and the ruined copies' findings."""
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        name = f"{r['race']} {r['gender']}" if r["source"] == "utk" else "faces/"
        groups[name].append(r)
        if r["source"] == "utk":
            groups["utk, all"].append(r)
    order = sorted(g for g in groups if g not in ("utk, all", "faces/")) + [g for g in ("utk, all", "faces/")
                                                                            if g in groups]

    def share(g: str, variant: str, test: Any) -> tuple[int, int]:
        rs = [r for r in groups[g] if r["variant"] == variant]
        return sum(1 for r in rs if test(r)), len(rs)

    lines = ["Share reaching the moderation queue (route `review`):", "",
             "| group | " + " | ".join(REACH) + " |", "|---|" + "---:|" * len(REACH)]
    for g in order:
        lines.append(f"| {g} | " + " | ".join(pct(*share(g, v, lambda r: r["route"] == "review")) for v in REACH) + " |")
    cells = [g for g in order if g not in ("utk, all", "faces/")]
    if cells:
        worst = [min((share(g, v, lambda r: r["route"] == "review") for g in cells),
                     key=lambda kn: kn[0] / kn[1] if kn[1] else 1.0) for v in REACH]
        lines.append("| worst utk cell | " + " | ".join(pct(*w) for w in worst) + " |")
    lines += ["", "Ruined copies carrying the right finding (blur: `soft`, cut: `face_cut_off`, noface: `no_face`, "
              "two: `multiple_faces`):", "", "| group | " + " | ".join(RUINED) + " |", "|---|" + "---:|" * len(RUINED)]
    for g in order:
        lines.append(f"| {g} | " + " | ".join(
            pct(*share(g, v, lambda r, f=f: f in r["findings"].split("|"))) for v, f in RUINED.items()) + " |")
    flags = ("soft", "dark", "face_small", "face_cut_off", "multiple_faces", "no_face")
    for variant in REACH:
        lines += ["", f"Findings raised on `{variant}` (share of the group's photos):", "",
                  "| group | " + " | ".join(flags) + " |", "|---|" + "---:|" * len(flags)]
        for g in order:
            lines.append(f"| {g} | " + " | ".join(
                pct(*share(g, variant, lambda r, f=f: f in r["findings"].split("|"))) for f in flags) + " |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=default_data())
    ap.add_argument("--per-cell", type=int, default=400, help="utk photos per race x gender cell (default all 400)")
    ap.add_argument("--skip", type=int, default=0,
                    help="leave out the first N photos of each cell's seeded order (the calibration uses the first 30)")
    ap.add_argument("--no-faces", action="store_true", help="leave out ../shared/data/faces")
    ap.add_argument("--csv", type=Path, help="write one row per photo and variant (the calibration reads it)")
    ap.add_argument("--from-csv", type=Path, help="print the tables of an earlier run's CSV")
    args = ap.parse_args()
    if args.from_csv:
        with open(args.from_csv, newline="") as fh:
            # --skip N: leave out the utk photos the calibration chose the thresholds on.
            rows = [r for r in csv.DictReader(fh) if r["source"] != "utk" or int(r["rank"]) >= args.skip]
    else:
        photos = select(args.data, args.per_cell, not args.no_faces, args.skip)
        print(f"{len(photos)} photos x {len(VARIANTS)} variants from {args.data}", flush=True)
        t0 = time.perf_counter()
        rows = run(photos, args.csv, args.data)
        print(f"{len(rows)} analyses in {time.perf_counter() - t0:.0f} s")
    print(tables(rows))


if __name__ == "__main__":
    main()
