"""The training loop every workbench task shares: seeded, resumable from its last checkpoint,
cancellable between steps, reporting progress after each epoch. Never imports Django."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ml.workbench.config import Cancelled, Hooks, Progress, TrainConfig


def device() -> torch.device:
    """A GPU when this worker has one, else the CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def save_atomic(obj: Any, path: Path) -> None:
    """torch.save to a temporary name, then rename: a worker killed mid-write leaves the old file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def fit(modules: nn.ModuleDict, step_loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], x: np.ndarray,
        y: np.ndarray, *, cfg: TrainConfig, hooks: Hooks, validate: Callable[[], tuple[str, float]],
        flip: bool = True) -> list[dict[str, Any]]:
    """Train ``modules`` on (x, y) for ``cfg.epochs`` with Adam; returns the per-epoch history.

    ``step_loss(xb, yb)`` computes the loss of a batch with ``modules`` in train mode;
    ``validate()`` returns (name, value) with them in eval mode. After each epoch the modules,
    the optimiser and the history go to ``<checkpoint_dir>/checkpoint.pt``; a later call with
    the same config resumes after the last saved epoch and reproduces the same batches (each
    epoch's shuffle is seeded by (seed, epoch)). Raises ``Cancelled`` between steps."""
    dev = device()
    modules.to(dev)
    opt = torch.optim.Adam(modules.parameters(), lr=cfg.lr, weight_decay=1e-4)
    history: list[dict[str, Any]] = []
    start = 0
    ckpt = hooks.checkpoint_dir / "checkpoint.pt" if hooks.checkpoint_dir else None
    if ckpt is not None and ckpt.exists():
        state = torch.load(ckpt, map_location=dev, weights_only=False)
        if state.get("fingerprint") == cfg.fingerprint():
            modules.load_state_dict(state["modules"])
            opt.load_state_dict(state["optimizer"])
            history, start = state["history"], int(state["epoch"])
    xt = torch.from_numpy(x)
    yt = torch.from_numpy(y)
    n = len(xt)
    steps = sum(int(h["steps"]) for h in history)
    for epoch in range(start, cfg.epochs):
        gen = torch.Generator().manual_seed(cfg.seed * 100_003 + epoch)
        torch.manual_seed(cfg.seed * 100_003 + epoch)  # dropout: a resumed epoch draws what it drew before
        order = torch.randperm(n, generator=gen)
        modules.train()
        losses: list[float] = []
        batches = range(0, n, cfg.batch_size)
        for b, lo in enumerate(batches):
            if cfg.steps_per_epoch is not None and b >= cfg.steps_per_epoch:
                break
            if hooks.should_stop is not None and hooks.should_stop():
                raise Cancelled()
            idx = order[lo:lo + cfg.batch_size]
            if idx.numel() < 2:
                continue  # batch norm needs two samples
            xb, yb = xt[idx], yt[idx]
            if flip:
                mirror = torch.rand(idx.numel(), generator=gen) < 0.5
                xb = torch.where(mirror[:, None, None, None], xb.flip(3), xb)
            loss = step_loss(xb.to(dev), yb.to(dev))
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(float(loss.detach()))
        modules.eval()
        with torch.no_grad():
            name, value = validate()
        mean_loss = float(np.mean(losses)) if losses else float("nan")
        entry: dict[str, Any] = {"epoch": epoch + 1, "loss": mean_loss, "validation": float(value),
                                 "validation_name": name, "steps": len(losses), **hooks.tag}
        history.append(entry)
        steps += len(losses)
        if ckpt is not None:
            save_atomic({"fingerprint": cfg.fingerprint(), "modules": modules.state_dict(),
                         "optimizer": opt.state_dict(), "history": history, "epoch": epoch + 1}, ckpt)
        if hooks.progress is not None:
            hooks.progress(Progress(epoch + 1, cfg.epochs, mean_loss, float(value), name, steps))
    return history


def predict(module: nn.Module, x: np.ndarray, batch: int = 256) -> np.ndarray:
    """Outputs of ``module`` in eval mode on ``x`` (N, 3, H, W), as a numpy array."""
    dev = device()
    module.eval()
    out = []
    with torch.no_grad():
        for lo in range(0, len(x), batch):
            out.append(module(torch.from_numpy(x[lo:lo + batch]).to(dev)).float().cpu().numpy())
    return np.concatenate(out) if out else np.zeros((0,), np.float32)


def set_threads(threads: int | None) -> None:
    if threads:
        torch.set_num_threads(max(1, int(threads)))
