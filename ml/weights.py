"""Where model weights come from. Everything ships in installed packages or in this repo,
except RetinaFace-ResNet-50, whose weights file the operator supplies."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

REPO_WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"


def dlib_model_path(filename: str) -> Path:
    """Path of a ``.dat`` file shipped by ``face-recognition-models``.

    The package's ``__init__`` imports ``pkg_resources`` (gone from setuptools 81+), so it is
    located with ``find_spec`` instead of being imported.
    """
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("face-recognition-models is not installed (pip install face-recognition-models)")
    path = Path(next(iter(spec.submodule_search_locations))) / "models" / filename
    if not path.exists():
        raise FileNotFoundError(f"{filename} is missing from face-recognition-models at {path}")
    return path


def user_weights_dir() -> Path:
    """Operator-supplied weights (e.g. Resnet50_Final.pth): $FACECOMMONS_WEIGHTS_DIR or var/weights."""
    default = Path(__file__).resolve().parents[1] / "var" / "weights"
    return Path(os.environ.get("FACECOMMONS_WEIGHTS_DIR", str(default)))
