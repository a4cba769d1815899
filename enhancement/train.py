"""Train this project's Zero-DCE++ curve estimator on CPU.

    python -m enhancement.train [--images DIR ...] [--minutes 12] [--threads 1] [--seed 0]

Data is made here: under-exposed, noisy versions (``enhancement.degrade.darken``: linear light
x 0.008-0.3, Poisson shot noise, Gaussian read noise, JPEG) of the images that scikit-image
bundles in its wheel, plus every image under the ``--images`` folders. Losses are the paper's
zero-reference losses: spatial consistency, exposure control (E = 0.6), colour constancy and
illumination smoothness (total variation of alpha), weighted 1 / 10 / 5 / 1600 as in the
published Zero-DCE++ training code. Writes ``zero_dce_pp.pt``, its ONNX export and a JSON
record of the run (arguments, data, loss history) next to it.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import random
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import torch
from torch.nn import functional as F  # noqa: N812

from enhancement.degrade import darken
from enhancement.zero_dce import WEIGHTS_PATH, ZeroDCEPP, apply_curves

#: Files inside scikit-image's wheel (``skimage/data``), never the ones fetched with pooch.
SKIMAGE_FILES = (
    "astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg", "hubble_deep_field.jpg", "motorcycle_left.png",
    "motorcycle_right.png", "ihc.png", "retina.jpg", "color.png", "camera.png", "brick.png", "grass.png",
    "gravel.png", "moon.png", "page.png", "coins.png", "horse.png", "logo.png",
)
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"}
EXPOSURE_TARGET = 0.6
LOSS_WEIGHTS = {"spa": 1.0, "exp": 10.0, "col": 5.0, "tv": 1600.0}


def _as_rgb(img: np.ndarray) -> np.ndarray:
    if img.ndim == 2:
        img = np.stack([img] * 3, axis=-1)
    img = img[..., :3]
    if img.dtype != np.uint8:
        img = np.clip(img.astype(np.float32) * (255.0 / max(1.0, float(img.max()))), 0, 255).astype(np.uint8)
    return np.ascontiguousarray(img)


def load_training_images(folders: list[Path]) -> tuple[list[np.ndarray], list[str]]:
    import skimage

    data_dir = Path(skimage.__file__).resolve().parent / "data"
    images, names = [], []
    for name in SKIMAGE_FILES:
        path = data_dir / name
        if path.exists():
            img = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
            if img is None:
                continue
            if img.ndim == 3:
                img = cv2.cvtColor(img[..., :3], cv2.COLOR_BGR2RGB)
            images.append(_as_rgb(img))
            names.append(f"skimage/data/{name}")
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            if path.suffix.lower() in IMAGE_SUFFIXES:
                bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
                if bgr is not None:
                    images.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
                    names.append(str(path))
    return images, names


def make_sample(img: np.ndarray, rng: np.random.Generator, size: int) -> np.ndarray:
    """One training input: a random crop, darkened with sensor noise at 'capture' resolution,
    then area-downscaled to ``size`` as inference does (which averages part of the noise)."""
    factor = int(rng.integers(1, 5))
    crop = size * factor
    h, w = img.shape[:2]
    if min(h, w) < crop:
        s = crop / min(h, w)
        img = cv2.resize(img, (math.ceil(w * s), math.ceil(h * s)), interpolation=cv2.INTER_LINEAR)
        h, w = img.shape[:2]
    y, x = int(rng.integers(0, h - crop + 1)), int(rng.integers(0, w - crop + 1))
    patch = img[y:y + crop, x:x + crop]
    if rng.random() < 0.5:
        patch = patch[:, ::-1]
    if rng.random() < 0.85:
        light = float(np.exp(rng.uniform(np.log(0.008), np.log(0.3))))
    else:
        light = float(np.exp(rng.uniform(np.log(0.3), 0.0)))
    dark = darken(
        np.ascontiguousarray(patch), rng, light=light,
        photons=float(np.exp(rng.uniform(np.log(150), np.log(3000)))),
        read_sigma=float(rng.uniform(0.0005, 0.004)),
        jpeg_quality=int(rng.integers(60, 96)) if rng.random() < 0.8 else None,
    )
    if factor > 1:
        dark = cv2.resize(dark, (size, size), interpolation=cv2.INTER_AREA)
    return dark


# --- The zero-reference losses (Guo et al. 2020; Li et al. 2021) -------------------------

def loss_spatial(org: torch.Tensor, enh: torch.Tensor) -> torch.Tensor:
    """Spatial consistency: differences between neighbouring 4x4 regions keep their sign and size."""
    o = F.avg_pool2d(org.mean(1, keepdim=True), 4)
    e = F.avg_pool2d(enh.mean(1, keepdim=True), 4)

    def diffs(p: torch.Tensor) -> list[torch.Tensor]:
        q = F.pad(p, (1, 1, 1, 1), mode="replicate")
        return [p - q[:, :, 1:-1, :-2], p - q[:, :, 1:-1, 2:], p - q[:, :, :-2, 1:-1], p - q[:, :, 2:, 1:-1]]

    return sum(((a - b) ** 2 for a, b in zip(diffs(o), diffs(e), strict=True)), torch.zeros(())).mean()


def loss_exposure(enh: torch.Tensor, target: float = EXPOSURE_TARGET, patch: int = 16) -> torch.Tensor:
    return ((F.avg_pool2d(enh.mean(1, keepdim=True), patch) - target) ** 2).mean()


def loss_colour(enh: torch.Tensor) -> torch.Tensor:
    m = enh.mean((2, 3))
    r, g, b = m[:, 0], m[:, 1], m[:, 2]
    return torch.sqrt((r - g) ** 4 + (r - b) ** 4 + (g - b) ** 4 + 1e-12).mean()


def loss_tv(alpha: torch.Tensor) -> torch.Tensor:
    dh = (alpha[:, :, 1:, :] - alpha[:, :, :-1, :]) ** 2
    dw = (alpha[:, :, :, 1:] - alpha[:, :, :, :-1]) ** 2
    return 2.0 * (dh.mean() + dw.mean())


def total_loss(x: torch.Tensor, model: ZeroDCEPP, exposure: float = EXPOSURE_TARGET) -> tuple[torch.Tensor, dict[str, float]]:
    alpha = model(x)
    enh = apply_curves(x, alpha)
    parts = {"spa": loss_spatial(x, enh), "exp": loss_exposure(enh, exposure), "col": loss_colour(enh), "tv": loss_tv(alpha)}
    loss = sum((LOSS_WEIGHTS[k] * v for k, v in parts.items()), torch.zeros(()))
    return loss, {k: float(v.detach()) for k, v in parts.items()}


def export_onnx(model: ZeroDCEPP, path: Path) -> None:
    model.eval()
    torch.onnx.export(
        model, (torch.rand(1, 3, 96, 128),), str(path), input_names=["rgb"], output_names=["alpha"],
        dynamic_axes={"rgb": {2: "h", 3: "w"}, "alpha": {2: "h", 3: "w"}}, opset_version=17, dynamo=False,
    )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m enhancement.train", description=__doc__.split("\n\n")[0])
    p.add_argument("--images", type=Path, action="append", default=[], help="extra folder of images (repeatable)")
    p.add_argument("--minutes", type=float, default=12.0, help="wall-clock budget (default 12)")
    p.add_argument("--max-steps", type=int, default=1_000_000)
    p.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (default 1)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--size", type=int, default=128, help="side of the (downscaled) training inputs")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--exposure", type=float, default=EXPOSURE_TARGET, help="exposure-control target E (default 0.6)")
    p.add_argument("--out", type=Path, default=WEIGHTS_PATH)
    p.add_argument("--no-onnx", action="store_true")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    cv2.setNumThreads(1)
    random.seed(args.seed)
    np.random.seed(args.seed)  # noqa: NPY002
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)

    images, names = load_training_images(args.images)
    if not images:
        raise SystemExit("no training images found")
    model = ZeroDCEPP()
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=args.lr, weight_decay=1e-4)
    deadline = time.monotonic() + args.minutes * 60.0
    history: list[dict] = []
    step, started = 0, time.monotonic()
    lr_final_from = 0.7  # cosine-free simple schedule: drop lr x10 for the last 30 % of the budget
    while step < args.max_steps and (time.monotonic() < deadline or step == 0):
        frac = (time.monotonic() - started) / max(1e-9, args.minutes * 60.0)
        for group in opt.param_groups:
            group["lr"] = args.lr * (0.1 if frac > lr_final_from else 1.0)
        batch = np.stack([make_sample(images[int(rng.integers(len(images)))], rng, args.size) for _ in range(args.batch)])
        x = torch.from_numpy(batch).permute(0, 3, 1, 2).float() / 255.0
        loss, parts = total_loss(x, model, args.exposure)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 0.1)
        opt.step()
        step += 1
        if step <= 2 or step % 50 == 0:
            history.append({"step": step, "seconds": round(time.monotonic() - started, 1), "loss": round(float(loss), 5),
                            **{k: round(v, 6) for k, v in parts.items()}})
            print(json.dumps(history[-1]), flush=True)

    args.out.parent.mkdir(parents=True, exist_ok=True)
    model.eval()
    torch.save({"model": model.state_dict()}, args.out)
    if not args.no_onnx:
        export_onnx(model, args.out.with_suffix(".onnx"))
    record = {
        "command": "python -m enhancement.train " + " ".join(sys.argv[1:] if argv is None else argv),
        "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items() if k != "images"},
        "extra_image_folders": [str(p) for p in args.images],
        "training_images": names,
        "steps": step,
        "seconds": round(time.monotonic() - started, 1),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "history": history,
    }
    args.out.with_suffix(".json").write_text(json.dumps(record, indent=1))
    return record


if __name__ == "__main__":
    main()
