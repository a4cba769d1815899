"""Trained workbench models as reference models: a face-vs-background net becomes a sliding-window
face detector, a verification net a verifier, both in the same registries as the pretrained
ones, so the evaluation measures them like any other model.

An installed model is a folder ``<weights dir>/workbench/<model id>/`` holding ``model.pt`` (what
``save_model`` writes) and ``manifest.json`` ({id, task, version, license, weights_source}).
The registries discover these folders when they list their models (``ml.trained``)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Literal

import cv2
import numpy as np
import torch

from ml.align import align_face
from ml.detectors.base import Detection, DetectorUnavailable
from ml.trained import installed_dir
from ml.workbench.config import REGISTRABLE, TrainResult
from ml.workbench.nets import EmbeddingNet, FaceBackgroundNet
from ml.workbench.train import save_atomic

MODEL_ID = re.compile(r"^[a-z0-9][a-z0-9-]{2,59}$")


def save_model(result: TrainResult, path: Path) -> None:
    """Write the trained weights and their metadata (atomically)."""
    save_atomic({"task": result.task, "state_dict": result.model["state_dict"], "meta": result.model["meta"]}, path)


def install(*, model_id: str, model_file: Path, version: str, weights_source: str) -> Path:
    """Copy a trained model into the weights folder under ``model_id``; returns its folder.

    Raises ValueError for a bad id or a task the evaluation cannot measure."""
    if not MODEL_ID.match(model_id):
        raise ValueError("a model id is 3-60 lower-case letters, digits and dashes")
    state = torch.load(model_file, map_location="cpu", weights_only=False)
    task = REGISTRABLE.get(state.get("task", ""))
    if task is None:
        raise ValueError("only face-vs-background (as a detector) and verification models can be evaluated")
    folder = installed_dir() / model_id
    folder.mkdir(parents=True, exist_ok=True)
    save_atomic(state, folder / "model.pt")
    manifest = {"id": model_id, "task": task, "version": version, "license": "trained on Face Commons data",
                "weights_source": weights_source}
    tmp = folder / ".manifest.json.tmp"
    tmp.write_text(json.dumps(manifest, indent=1))
    tmp.replace(folder / "manifest.json")
    return folder


def uninstall(model_id: str) -> None:
    folder = installed_dir() / model_id
    for name in ("manifest.json", "model.pt"):
        (folder / name).unlink(missing_ok=True)


def _load(folder: str) -> dict[str, Any]:
    try:
        return torch.load(Path(folder) / "model.pt", map_location="cpu", weights_only=False)
    except (OSError, RuntimeError) as exc:
        raise DetectorUnavailable(f"the trained model in {folder} cannot be read: {exc}") from exc


class TrainedFaceDetector:
    """The face-vs-background net run fully convolutionally over an image pyramid: each output cell
    is one 32 px window at a stride of 8; windows above the validation threshold are faces, and
    overlapping ones are merged by non-maximum suppression."""

    def __init__(self, manifest: dict[str, Any], min_face: int = 24, scale_step: float = 1.26) -> None:
        state = _load(manifest["path"])
        self.model_id, self.version = manifest["id"], manifest["version"]
        self.license, self.weights_source = manifest["license"], manifest["weights_source"]
        self.net = FaceBackgroundNet()
        self.net.load_state_dict(state["state_dict"])
        self.net.eval()
        self.tau = float(state["meta"]["threshold_logit"])
        self.min_face, self.scale_step = min_face, scale_step

    def detect(self, image: np.ndarray) -> list[Detection]:
        h, w = image.shape[:2]
        win, stride = FaceBackgroundNet.window, FaceBackgroundNet.stride
        boxes, scores = [], []
        scale = win / self.min_face
        x = image.astype(np.float32) / 255.0
        while min(h, w) * scale >= win:
            im = cv2.resize(x, (max(win, round(w * scale)), max(win, round(h * scale))), interpolation=cv2.INTER_AREA)
            with torch.no_grad():
                out = self.net(torch.from_numpy(im.transpose(2, 0, 1)[None].copy()))[0, 0].numpy()
            ys, xs = np.nonzero(out >= self.tau)
            for yy, xx in zip(ys, xs, strict=True):
                x1, y1 = xx * stride / scale, yy * stride / scale
                boxes.append([x1, y1, x1 + win / scale, y1 + win / scale])
                # The evaluation counts a face at score >= 0.9: the validation threshold maps to 0.9.
                scores.append(float(1 / (1 + np.exp(-(float(out[yy, xx]) - self.tau + np.log(9.0))))))
            scale /= self.scale_step
        if not boxes:
            return []
        keep = cv2.dnn.NMSBoxes([[b[0], b[1], b[2] - b[0], b[3] - b[1]] for b in boxes], scores, 0.9, 0.3)
        order = sorted((int(i) for i in np.asarray(keep).reshape(-1)), key=lambda i: -scores[i])
        return [Detection(box=tuple(float(v) for v in boxes[i]), score=scores[i])  # type: ignore[arg-type]
                for i in order[:50]]


class TrainedVerifier:
    """The verification net on the face aligned from its five landmarks (cosine distance)."""

    metric: Literal["euclidean", "cosine"] = "cosine"

    def __init__(self, manifest: dict[str, Any]) -> None:
        state = _load(manifest["path"])
        self.model_id, self.version = manifest["id"], manifest["version"]
        self.license, self.weights_source = manifest["license"], manifest["weights_source"]
        self.net = EmbeddingNet()
        self.net.load_state_dict(state["state_dict"])
        self.net.eval()
        self.size = int(state["meta"]["input"])
        thr = state["meta"].get("threshold")
        self.threshold = float(thr) if thr is not None and np.isfinite(thr) else 0.5

    def embed(self, image: np.ndarray, face: Detection | None = None) -> np.ndarray:
        if face is not None and len(face.landmarks) == 5:
            crop = align_face(image, np.asarray(face.landmarks), self.size)
        else:
            x1, y1, x2, y2 = face.box if face is not None else (0, 0, image.shape[1], image.shape[0])
            crop = cv2.resize(image[int(max(0, y1)):int(y2), int(max(0, x1)):int(x2)], (self.size, self.size))
        x = torch.from_numpy(crop.astype(np.float32).transpose(2, 0, 1)[None] / 255.0)
        with torch.no_grad():
            return self.net(x)[0].numpy().astype(np.float32)

    def distance(self, a: np.ndarray, b: np.ndarray) -> float:
        from ml.verifiers.base import cosine_distance

        return cosine_distance(a, b)
