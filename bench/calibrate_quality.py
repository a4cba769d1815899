"""Calibrate the quality findings' thresholds (``soft``, ``dark``, ``face_cut_off``, ``face_small``)
on realistic photos, per race x gender, and print the sweep behind each operating point.

    nice -n 5 .venv/bin/python bench/gate.py --per-cell 60 --no-faces --csv gate.csv
    .venv/bin/python bench/calibrate_quality.py gate.csv [--calibration 30] [--data ../shared/data]
    .venv/bin/python bench/gate.py --from-csv gate.csv --skip 30     # the benchmark, on the rest

The calibration set is the first 30 photos of each utk cell in bench/gate.py's seeded order
(300 photos; ``rank`` < 30 in its CSV) and, when the CSV has them, the single-face photos of
faces/, each as it is, phone-like, darkened and ruined (see bench/gate.py). The benchmark's
table is computed on the photos after them (``--skip 30``), so the thresholds are never
judged on the photos that chose them. The thresholds only decide findings (flags), never
the route, so one run serves both: the measures are in the CSV.

For each measure, the photos that should NOT carry the finding (``as_is`` and ``phone``: lit,
whole, unblurred) give the false-flag rate of the worst cell; the ruined copies that SHOULD
carry it give the hit rate (a copy whose face was not found counts as a miss, except that a
soft doubtful face counts for ``soft``, as in the pipeline). The rule for every operating
point: among the thresholds that flag no cell's lit photos more often than ``--max-false``
(default 4%: two of a cell's 60 lit photos), those that flag the most ruined copies (within half a point);
the middle of them.
``face_small`` has no ruined variant: the sweep shrinks the lit faces and shows that the
sharpness measure does not stand in for size (see ``Thresholds.min_face_px``).
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path[:0] = [str(ROOT / "platform"), str(ROOT)]

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from facecommons.pipeline.analysis import Thresholds  # noqa: E402
from ml.quality import face_quality  # noqa: E402
from ml.registry import create_model  # noqa: E402

GOOD = ("as_is", "phone")


def default_data() -> Path:
    # ../shared/data from the main checkout; ../../shared/data from a worktree under wt/ (as bench/gate.py).
    for base in (ROOT.parent, ROOT.parent.parent):
        if (base / "shared" / "data").is_dir():
            return base / "shared" / "data"
    return ROOT.parent / "shared" / "data"


def cell(r: dict[str, Any]) -> str:
    return f"{r['race']} {r['gender']}" if r["source"] == "utk" else "faces/"


def rates(rows: list[dict[str, Any]], flagged: Any) -> dict[str, tuple[int, int]]:
    out: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for r in rows:
        out[cell(r)][0] += int(bool(flagged(r)))
        out[cell(r)][1] += 1
    return {k: (v[0], v[1]) for k, v in out.items()}


def worst(rs: dict[str, tuple[int, int]]) -> float:
    return max((k / n for k, n in rs.values() if n), default=0.0)


def overall(rs: dict[str, tuple[int, int]]) -> float:
    k = sum(v[0] for v in rs.values())
    n = sum(v[1] for v in rs.values())
    return k / n if n else 0.0


def sweep(rows: list[dict[str, Any]], *, measure: str, positives: tuple[str, ...], below: bool,
          grid: np.ndarray, max_false: float, label: str) -> float:
    """Print the sweep; return the operating point."""
    have = [r for r in rows if r[measure] not in ("", None)]
    good = [r for r in have if r["variant"] in GOOD]
    pos = {v: [r for r in rows if r["variant"] == v] for v in positives}  # missing faces count as misses

    def hit(r: dict[str, Any], th: float) -> bool:
        value = r[measure]
        if value in ("", None) and measure == "sharpness":
            # No face counted, but the pipeline measured the detector's doubtful best one.
            value = r.get("doubtful_sharpness", "")
        if value in ("", None):
            return False
        return float(value) < th if below else float(value) > th

    print(f"\n## {label}: {measure} {'<' if below else '>'} threshold")
    print("| threshold | lit flagged, all | lit flagged, worst cell | " + " | ".join(
        f"{v} flagged, all | {v}, worst cell" for v in positives) + " |")
    print("|---:|---:|---:|" + "---:|---:|" * len(positives))
    ok: list[tuple[float, float]] = []
    for th in grid:
        g = rates(good, lambda r, th=th: hit(r, th))
        ps = {v: rates(rs, lambda r, th=th: hit(r, th)) for v, rs in pos.items()}
        score = min(overall(p) for p in ps.values())
        if worst(g) <= max_false:
            ok.append((float(th), score))
        print(f"| {th:.3f} | {overall(g):.1%} | {worst(g):.1%} | " + " | ".join(
            f"{overall(p):.1%} | {1 - worst({k: (n - x, n) for k, (x, n) in p.items()}):.1%}"
            for p in ps.values()) + " |")
    # The middle of the plateau of thresholds that flag the most ruined copies (within 0.5
    # points) with no cell's lit photos over ``max_false``: a margin on both sides.
    top = max((sc for _, sc in ok), default=0.0)
    plateau = [th for th, sc in ok if sc >= top - 0.005] or [float(grid[0])]
    best = plateau[len(plateau) // 2]
    print(f"operating point: {best:.3f}, the middle of {plateau[0]:.3f}-{plateau[-1]:.3f} (most "
          f"{'/'.join(positives)} flagged, within 0.5 points, with no cell's lit photos flagged more than "
          f"{max_false:.0%})")
    g = rates(good, lambda r: hit(r, best))
    print("per cell at the operating point, lit flagged: " + "; ".join(
        f"{k} {x}/{n}" for k, (x, n) in sorted(g.items())))
    for v, rs in pos.items():
        p = rates(rs, lambda r: hit(r, best))
        print(f"per cell at the operating point, {v} flagged: " + "; ".join(
            f"{k} {x}/{n}" for k, (x, n) in sorted(p.items())))
    return best


def face_size_sweep(data: Path, rows: list[dict[str, Any]], min_sharpness: float) -> None:
    """Shrink the lit utk photos of the calibration set until the face box's short side is
    ``size`` px and report how many read soft at each size."""
    files = sorted({(r["file"], cell(r)) for r in rows if r["source"] == "utk" and r["variant"] == "as_is"
                    and r["sharpness"] not in ("", None) and float(r["sharpness"]) >= min_sharpness})
    det = create_model("retinaface-mobilenet", threads=1)
    sizes = (32, 40, 48, 56, 64, 80, 96)
    soft: dict[int, dict[str, list[int]]] = {s: defaultdict(lambda: [0, 0]) for s in sizes}
    for f, c in files:
        rgb = cv2.cvtColor(cv2.imread(str(data / "utk" / f)), cv2.COLOR_BGR2RGB)
        faces = [d for d in det.detect(rgb) if d.score >= 0.9]
        if len(faces) != 1:
            continue
        x1, y1, x2, y2 = faces[0].box
        short = min(x2 - x1, y2 - y1)
        for s in sizes:
            k = s / short
            small = cv2.resize(rgb, (max(8, round(rgb.shape[1] * k)), max(8, round(rgb.shape[0] * k))),
                               interpolation=cv2.INTER_AREA)
            q = face_quality(small, np.asarray(faces[0].landmarks) * k)
            soft[s][c][0] += int(q.sharpness < min_sharpness)
            soft[s][c][1] += 1
    print(f"\n## face_small: lit utk faces not soft at full size ({len(files)}), shrunk to a face box short "
          f"side of N px: share reading soft (< {min_sharpness}); the box sizes as found, per cell, below")
    print("| face px | all | worst cell | best cell |\n|---:|---:|---:|---:|")
    for s in sizes:
        per = {k: (v[0], v[1]) for k, v in soft[s].items()}
        print(f"| {s} | {overall(per):.1%} | {worst(per):.1%} | "
              f"{min((x / n for x, n in per.values() if n), default=0):.1%} |")
    print("\n| cell | variant | face box short side, min / 5th pct / median px | flagged face_small |\n|---|---|---:|---:|")
    by: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        if r["variant"] in GOOD:
            by[(cell(r), r["variant"])].append(r)
    for (c, v), rs in sorted(by.items()):
        px = np.array([float(r["short_side_px"]) for r in rs if r["short_side_px"] not in ("", None)])
        small = sum("face_small" in r["findings"].split("|") for r in rs)
        if px.size:
            print(f"| {c} | {v} | {px.min():.0f} / {np.percentile(px, 5):.0f} / {np.median(px):.0f} | {small}/{len(rs)} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("csv", type=Path, help="bench/gate.py --csv output on the calibration set")
    ap.add_argument("--data", type=Path, default=None)
    ap.add_argument("--max-false", type=float, default=0.04,
                    help="most lit photos a cell may have flagged (default 4%%: 2 of 60)")
    ap.add_argument("--calibration", type=int, default=30,
                    help="utk photos of each cell's seeded order to calibrate on (rank < N; default 30)")
    ap.add_argument("--skip-face-size", action="store_true")
    args = ap.parse_args()
    with open(args.csv, newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["source"] != "utk" or int(r["rank"]) < args.calibration]
    print(f"{len(rows)} analyses from {args.csv}; current defaults: {Thresholds()}")
    soft = sweep(rows, measure="sharpness", positives=("blur4", "blur8"), below=True,
                 grid=np.round(np.arange(1.30, 1.81, 0.025), 3), max_false=args.max_false, label="soft")
    sweep(rows, measure="highlight", positives=("dark03", "dark015"), below=True,
          grid=np.round(np.arange(0.15, 0.41, 0.02), 3), max_false=args.max_false, label="dark")
    sweep(rows, measure="outside_share", positives=("cut",), below=False,
          grid=np.round(np.arange(0.05, 0.36, 0.0125), 4), max_false=args.max_false, label="face_cut_off")
    if not args.skip_face_size:
        face_size_sweep(args.data or default_data(), rows, soft)


if __name__ == "__main__":
    main()
