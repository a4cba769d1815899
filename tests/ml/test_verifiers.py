import numpy as np
import pytest
from PIL import Image
from skimage import data

from ml.detectors.base import Detection
from ml.registry import create_model, list_models, model_info

# The astronaut's face in skimage's 512x512 image (checked by eye and by the detectors).
ASTRONAUT_FACE = Detection(box=(165.0, 50.0, 265.0, 175.0), score=1.0)


@pytest.fixture(scope="module")
def verifier():
    return create_model("dlib-resnet")


def test_registry_lists_dlib_resnet():
    assert "dlib-resnet" in list_models("verifier")
    with pytest.raises(KeyError, match="Unknown verifier 'nope'"):
        create_model("nope", "verifier")


def test_same_face_close_and_model_metadata(verifier):
    img = data.astronaut()
    a = verifier.embed(img, ASTRONAUT_FACE)
    assert a.shape == (128,) and a.dtype == np.float32
    # The same face, resized and re-framed, stays within the model's usual threshold.
    smaller = np.asarray(Image.fromarray(img).resize((384, 384)))
    b = verifier.embed(smaller, ASTRONAUT_FACE.scaled(0.75))
    assert verifier.distance(a, b) < verifier.threshold
    assert verifier.metric == "euclidean" and verifier.threshold == 0.6
    assert verifier.model_id == "dlib-resnet" and verifier.version == model_info("dlib-resnet").version


def test_non_face_is_far(verifier):
    img = data.astronaut()
    a = verifier.embed(img, ASTRONAUT_FACE)
    coffee = data.coffee()
    c = verifier.embed(coffee, Detection(box=(100.0, 100.0, 300.0, 300.0), score=1.0))
    assert verifier.distance(a, c) > verifier.threshold
