"""Every registered detector that can load here, on a real face and on a photo with none."""

from __future__ import annotations

import numpy as np
import pytest
from skimage import data

from ml.detectors import Detection, DetectorUnavailable
from ml.detectors.postprocess import nms, prior_boxes
from ml.registry import create_model, list_models


@pytest.fixture(scope="module")
def astronaut() -> np.ndarray:
    return data.astronaut()


def _load(name: str):
    try:
        return create_model(name)
    except DetectorUnavailable as exc:
        pytest.skip(f"{name} cannot load here: {exc}")


@pytest.mark.parametrize("name", list_models("detector"))
def test_detector_finds_the_astronaut_and_nothing_in_coffee(name, astronaut):
    det = _load(name)
    assert det.model_id == name and det.version
    faces = [d for d in det.detect(astronaut) if d.score >= 0.9]
    assert len(faces) == 1, faces
    face = faces[0]
    x1, y1, x2, y2 = face.box
    # The astronaut's face spans roughly x 170-275, y 50-180 of the 512x512 image.
    assert 150 < x1 < 215 and 240 < x2 < 290 and 30 < y1 < 100 and 150 < y2 < 200
    assert 60 < x2 - x1 < 140 and 60 < y2 - y1 < 150
    assert len(face.landmarks) == 5
    (lex, ley), (rex, rey), (nx, ny), (mlx, mly), (mrx, mry) = face.landmarks
    assert lex < rex and mlx < mrx  # image left before image right
    assert max(ley, rey) < ny < min(mly, mry) + 5  # eyes above nose above mouth
    for x, y in face.landmarks:
        assert x1 - 5 <= x <= x2 + 5 and y1 - 5 <= y <= y2 + 5
    d = face.as_dict()
    assert set(d) == {"box", "score", "landmarks"} and len(d["landmarks"]) == 5
    assert [d for d in det.detect(data.coffee()) if d.score >= 0.9] == []


def test_detection_scaled():
    d = Detection(box=(10.0, 20.0, 30.0, 40.0), score=0.95, landmarks=((1.0, 2.0),) * 5)
    s = d.scaled(2.0)
    assert s.box == (20.0, 40.0, 60.0, 80.0) and s.landmarks[0] == (2.0, 4.0) and s.score == 0.95


def test_unknown_detector():
    with pytest.raises(KeyError, match="Unknown detector 'nope'"):
        create_model("nope", "detector")
    with pytest.raises(KeyError, match="Unknown detector 'dlib-resnet'"):  # a verifier is not a detector
        create_model("dlib-resnet", "detector")


def test_mobilenet_resizes_and_scales_back(astronaut):
    import cv2

    det = create_model("retinaface-mobilenet", max_side=512)
    big = cv2.resize(astronaut, (2048, 2048), interpolation=cv2.INTER_CUBIC)
    small_faces = det.detect(astronaut)
    big_faces = det.detect(big)
    assert len(big_faces) == len(small_faces) == 1
    assert np.allclose(np.array(big_faces[0].box) / 4, small_faces[0].box, atol=3)


def test_prior_layout_and_nms():
    p = prior_boxes(64, 96)
    # 2 priors per cell on three strides (8, 16, 32); first prior centred in the first cell.
    assert p.shape == (2 * (8 * 12 + 4 * 6 + 2 * 3), 4)
    assert np.allclose(p[0], [4 / 96, 4 / 64, 16 / 96, 16 / 64]) and np.allclose(p[1, 2:], [32 / 96, 32 / 64])
    boxes = np.array([[0, 0, 10, 10], [1, 1, 10, 10], [20, 20, 30, 30]], np.float32)
    assert nms(boxes, np.array([0.9, 0.8, 0.7]), 0.4) == [0, 2]


# --- RetinaFace-ResNet-50: the network, its weights loader and the missing-file message -------
torch = pytest.importorskip("torch")


def test_resnet50_missing_weights_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setenv("FACECOMMONS_WEIGHTS_DIR", str(tmp_path))
    with pytest.raises(DetectorUnavailable) as err:
        create_model("retinaface-resnet50")
    msg = str(err.value)
    assert "Resnet50_Final.pth" in msg and str(tmp_path / "Resnet50_Final.pth") in msg
    assert "python manage.py install_detector_weights retinaface-resnet50" in msg


def test_resnet50_public_key_layout_round_trips(tmp_path, monkeypatch):
    from ml.detectors.retinaface_resnet50 import RetinaFaceResNet50, load_network

    torch.manual_seed(0)
    net = RetinaFaceResNet50().eval()
    state = net.state_dict()
    # The public file was saved from nn.DataParallel: every key starts with "module.".
    assert "body.layer1.0.conv1.weight" in state and "ssh1.conv7x7_3.0.weight" in state
    assert "fpn.output1.0.weight" in state and "LandmarkHead.2.conv1x1.bias" in state
    # torchvision's ResNet-50 has 25,557,032 parameters, 2,049,000 of them in the fc layer.
    assert sum(p.numel() for p in net.body.parameters()) == 23_508_032
    path = tmp_path / "Resnet50_Final.pth"
    torch.save({f"module.{k}": v for k, v in state.items() if "num_batches_tracked" not in k}, path)
    loaded = load_network(path)
    x = torch.randn(1, 3, 96, 128)
    with torch.inference_mode():
        loc, conf, ldm = loaded(x)
        ref = net(x)
    n = 2 * (12 * 16 + 6 * 8 + 3 * 4)
    assert loc.shape == (1, n, 4) and conf.shape == (1, n, 2) and ldm.shape == (1, n, 10)
    assert torch.allclose(conf.sum(-1), torch.ones(1, n)) and torch.allclose(loc, ref[0])
    # And through the registry, from the default location.
    monkeypatch.setenv("FACECOMMONS_WEIGHTS_DIR", str(tmp_path))
    det = create_model("retinaface-resnet50", score_threshold=0.0, max_side=64)
    assert det.version.startswith("Resnet50_Final-") and "sha256" in det.weights_source
    # Random weights find no faces, but every prior passes a 0 threshold: what the network saw on
    # the reduced copy comes back in the original's pixels, best first.
    from ml.imageio import resize_long_side

    img = np.random.default_rng(0).integers(0, 255, (120, 160, 3), dtype=np.uint8)
    small, scale = resize_long_side(img, 64)
    full, direct = det.detect(img), det.detect(small)
    assert full and len(full) == len(direct) and scale == 0.4
    for a, b in zip(full, direct, strict=True):
        assert np.allclose(np.array(a.box) * scale, b.box, atol=1e-3) and a.score == b.score
    assert [d.score for d in full] == sorted((d.score for d in full), reverse=True)


def test_resnet50_rejects_a_wrong_file(tmp_path):
    from ml.detectors.retinaface_resnet50 import load_network

    path = tmp_path / "other.pth"
    torch.save({"module.conv.weight": torch.zeros(3)}, path)
    with pytest.raises(ValueError, match="does not match RetinaFace-ResNet-50"):
        load_network(path)
    (tmp_path / "junk.pth").write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="not a PyTorch weights file"):
        load_network(tmp_path / "junk.pth")
