"""One test over every registered model (timm's tests/test_models.py): its metadata is known
without building it; it builds (skipped only where its weights are not installed here, with the
reason); it runs on one input; its ONNX file agrees with the PyTorch network it was exported from."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from skimage import data

from ml import registry
from ml.detectors import Detection
from ml.registry import KINDS, create_model, get_model, list_models, model_info

ROOT = Path(__file__).resolve().parents[2]
NAMES = list_models()


@pytest.fixture(scope="module")
def astronaut() -> np.ndarray:
    return data.astronaut()


def _built(name: str):
    reason = model_info(name).unavailable()
    if reason:
        pytest.skip(f"{name}: weights not installed here: {reason}")
    return create_model(name)


def test_the_registry_holds_every_kind():
    assert {"retinaface-mobilenet", "retinaface-resnet50", "dlib-hog", "dlib-cnn"} <= set(list_models("detector"))
    assert "dlib-resnet" in list_models("verifier")
    assert {"zero-dce++", "clahe", "gamma"} <= set(list_models("enhancer"))
    assert set(NAMES) == {n for kind in KINDS for n in list_models(kind)}


def test_metadata_needs_neither_torch_nor_onnxruntime():
    """Listing the models and reading their licences builds nothing and imports no framework."""
    code = ("import sys; from ml.registry import list_models, model_info\n"
            "infos = [model_info(n) for n in list_models()]\n"
            "assert all(i.licence and i.kind for i in infos), infos\n"
            "heavy = {'torch', 'onnxruntime', 'dlib', 'retinaface'} & set(sys.modules)\n"
            "assert not heavy, heavy\n")
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=120)


@pytest.mark.parametrize("name", NAMES)
def test_model_builds_runs_and_matches_its_metadata(name, astronaut):
    info = model_info(name)
    assert info.name == name and info.kind in KINDS and info.licence
    model = _built(name)
    # The metadata the evaluation records without building is the model's own.
    assert model.version == info.version and info.weights_source
    if info.input_size is not None and hasattr(model, "max_side"):
        assert model.max_side == info.input_size
    if info.kind == "detector":
        faces = [d for d in model.detect(astronaut) if d.score >= 0.9]
        assert len(faces) == 1 and isinstance(faces[0], Detection)
        x1, y1, x2, y2 = faces[0].box
        assert 150 < x1 < 215 and 240 < x2 < 290 and 30 < y1 < 100 and 150 < y2 < 200
    elif info.kind == "verifier":
        face = [d for d in get_model("retinaface-mobilenet").detect(astronaut) if d.score >= 0.9][0]
        a, b = model.embed(astronaut, face), model.embed(astronaut[:, ::-1].copy(), None)
        assert a.ndim == 1 and np.isfinite(a).all() and model.distance(a, a) == pytest.approx(0, abs=1e-6)
        assert model.distance(a, b) > 0
    else:
        dark = (astronaut[::4, ::4].astype(np.float32) * 0.08).astype(np.uint8)
        out = model.enhance(dark)
        assert out.shape == dark.shape and out.dtype == np.uint8 and out.mean() > dark.mean() + 5


@pytest.mark.parametrize("name", [n for n in NAMES if model_info(n).onnx and model_info(n).torch_reference])
def test_onnx_output_matches_the_pytorch_network(name, astronaut):
    """Where a model runs an ONNX export, the export computes what its PyTorch network computes."""
    torch = pytest.importorskip("torch")
    ort = pytest.importorskip("onnxruntime")
    info = model_info(name)
    assert info.onnx is not None and info.torch_reference is not None
    _built(name)  # skips, with the reason, where the weights are not here
    net = registry._resolve(info.torch_reference)()
    session = ort.InferenceSession(str(info.onnx), providers=["CPUExecutionProvider"])
    side = info.input_size or 256
    img = astronaut[:side, :side].astype(np.float32) / 255.0 * 0.1  # a dark input, the enhancer's case
    x = np.ascontiguousarray(img.transpose(2, 0, 1)[None], dtype=np.float32)
    with torch.inference_mode():
        ref = net(torch.from_numpy(x)).numpy()
    (out,) = session.run(None, {session.get_inputs()[0].name: x})
    assert out.shape == ref.shape and np.abs(out - ref).max() < 1e-4


def test_one_cache_per_process():
    registry.forget("clahe")
    first = get_model("clahe", "enhancer")
    assert get_model("clahe") is first and create_model("clahe") is not first
    registry.forget("clahe")
    assert get_model("clahe") is not first
    with pytest.raises(KeyError, match="Unknown detector 'clahe'"):
        get_model("clahe", "detector")
