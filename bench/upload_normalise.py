"""Upload intake cost: the hardened ``normalise_upload`` vs a bare decode/re-encode, same run.

    .venv/bin/python bench/upload_normalise.py [--n 6] [--repeat 3]

Photos: 4032x3024 JPEGs (q90) with an EXIF orientation (6) and GPS block, made by upscaling
scikit-image's astronaut with noise (a phone photo's size and entropy). One thread.

- hardened: ``facecommons.contributions.upload.normalise_upload`` exactly as the upload calls
  it: magic/name/type checks, JPEG segment walk to the end marker, polyglot scans, header-only
  size checks, decode, EXIF transpose, sRGB conversion, metadata-free JPEG q92 (optimised
  Huffman), SHA-256 of both, perceptual hash.
- baseline: ``Image.open`` + ``exif_transpose`` + ``convert("RGB")`` + ``save(JPEG, q92)``,
  with none of the checks, hashes or stripping guarantees.

The difference is what the safety costs per photo.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "platform"), str(ROOT)]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django  # noqa: E402

django.setup()

from PIL import Image, ImageOps  # noqa: E402
from skimage import data as skdata  # noqa: E402

from facecommons.contributions.upload import normalise_upload  # noqa: E402


def phone_jpeg(seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    base = Image.fromarray(skdata.astronaut()).resize((3024, 4032), Image.Resampling.BICUBIC)
    arr = np.asarray(base).astype(np.int16) + rng.integers(-12, 13, size=(4032, 3024, 3), dtype=np.int16)
    img = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8)).transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x0110] = "Bench Phone"
    exif.get_ifd(0x8825).update({1: "N", 2: (52.0, 22.0, 1.0), 3: "E", 4: (4.0, 53.0, 2.0)})
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=90, exif=exif.tobytes())
    return buf.getvalue()


def baseline(data: bytes) -> bytes:
    im = Image.open(io.BytesIO(data))
    im = ImageOps.exif_transpose(im).convert("RGB")
    out = io.BytesIO()
    im.save(out, "JPEG", quality=92)
    return out.getvalue()


def hardened(data: bytes) -> bytes:
    return normalise_upload(io.BytesIO(data), filename="IMG_0001.jpg", content_type="image/jpeg").jpeg


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=6)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    photos = [phone_jpeg(i) for i in range(args.n)]
    mb = statistics.mean(len(p) for p in photos) / 1e6
    print(f"{args.n} photos 4032x3024, mean {mb:.1f} MB, {args.repeat} repeats, 1 thread")
    results = {}
    for name, fn in (("baseline", baseline), ("hardened", hardened)):
        fn(photos[0])  # warm-up
        times = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            for p in photos:
                fn(p)
            times.append((time.perf_counter() - t0) / len(photos))
        results[name] = statistics.median(times)
        print(f"{name:9s} {results[name] * 1000:7.1f} ms/photo  ({1 / results[name]:.2f} photos/s)")
    print(f"overhead of the hardened intake: {results['hardened'] / results['baseline']:.2f}x "
          f"(+{(results['hardened'] - results['baseline']) * 1000:.0f} ms/photo)")


if __name__ == "__main__":
    main()
