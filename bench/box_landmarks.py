"""Mean landmark positions relative to RetinaFace's box, per race x gender, on data/utk.

Behind ``facecommons.pipeline.boxcrop.BOX_LANDMARKS``: a face box a moderator draws becomes
five landmarks, so its crops frame the face as the pipeline's crops do.

    .venv/bin/python bench/box_landmarks.py [--data ../shared/data/utk] [--every 8]

UTK file names are age_gender_race_date: gender 0 man, 1 woman; race 0 White, 1 Black,
2 Asian, 3 Indian, 4 Others. Every 8th adult photo, centred on a 600 px canvas (edges
replicated), detected at score >= 0.9; photos with other than one face are skipped.
"""

from __future__ import annotations

import argparse
import collections
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path[:0] = [str(ROOT / "platform"), str(ROOT)]

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from ml.registry import create_model  # noqa: E402

RACES = {"0": "White", "1": "Black", "2": "Asian", "3": "Indian", "4": "Others"}
GENDERS = {"0": "man", "1": "woman"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "utk")
    ap.add_argument("--every", type=int, default=8)
    args = ap.parse_args()
    detector = create_model("retinaface-mobilenet")
    rel: dict[tuple[str, str], list[np.ndarray]] = collections.defaultdict(list)
    for i, path in enumerate(sorted(args.data.glob("*.jpg"))):
        parts = path.name.split("_")
        if len(parts) < 4 or not parts[0].isdigit() or int(parts[0]) < 18 or i % args.every:
            continue
        img = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)
        img = cv2.copyMakeBorder(img, 200, 200, 200, 200, cv2.BORDER_REPLICATE)
        dets = [d for d in detector.detect(img) if d.score >= 0.9]
        if len(dets) != 1 or len(dets[0].landmarks) != 5:
            continue
        x1, y1, x2, y2 = dets[0].box
        lm = np.asarray(dets[0].landmarks)
        rel[(parts[2], parts[1])].append(np.stack([(lm[:, 0] - x1) / (x2 - x1), (lm[:, 1] - y1) / (y2 - y1)]))
    every = np.array([r for rows in rel.values() for r in rows])
    print(f"faces: {len(every)}   (x, y) per landmark: left eye, right eye, nose, mouth left, mouth right")
    print("all      x", np.round(every[:, 0].mean(0), 3), " y", np.round(every[:, 1].mean(0), 3))
    print("      sd x", np.round(every[:, 0].std(0), 3), " y", np.round(every[:, 1].std(0), 3))
    for (race, gender), rows in sorted(rel.items()):
        a = np.array(rows)
        print(f"{RACES.get(race, race):>6} {GENDERS.get(gender, gender):<5} n={len(a):3d}  x",
              np.round(a[:, 0].mean(0), 3), " y", np.round(a[:, 1].mean(0), 3))


if __name__ == "__main__":
    main()
