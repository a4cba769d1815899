"""RetinaFace with a ResNet-50 backbone (Deng et al. 2019), in PyTorch.

The architecture follows biubug6/Pytorch_Retinaface (``models/retinaface.py`` with
``cfg_re50``): a ResNet-50 (torchvision v1.5 layout, stride on the 3x3 conv; written here,
torchvision is not a dependency) returning layer2..4, an FPN, one SSH context module per level
and 1x1 class/box/landmark heads with two anchors per location. Module names match the keys
of the public ``Resnet50_Final.pth`` (after stripping DataParallel's ``module.`` prefix), so
that file loads as is.

The weights are not redistributed with this project: the operator supplies the file and
installs it with ``python manage.py install_detector_weights retinaface-resnet50 PATH``.
"""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from ml.detectors.base import Detection, DetectorUnavailable
from ml.detectors.postprocess import decode_retinaface
from ml.imageio import resize_long_side
from ml.weights import user_weights_dir

WEIGHTS_FILENAME = "Resnet50_Final.pth"
MEAN_BGR = (104.0, 117.0, 123.0)
INSTALL_HINT = (
    "RetinaFace-ResNet-50 needs its weights file {filename}, which is not shipped with Face Commons. "
    "Get Resnet50_Final.pth from the biubug6/Pytorch_Retinaface release (its README links the Google "
    "Drive / Baidu folder), then install it with:\n"
    "    python manage.py install_detector_weights retinaface-resnet50 /path/to/Resnet50_Final.pth\n"
    "which checks that it loads into the network and copies it to {target}."
)

try:  # torch is a requirement, but keep the registry importable without it
    import torch
    from torch import nn
    from torch.nn import functional as F  # noqa: N812
except ImportError:  # pragma: no cover
    torch = None  # type: ignore[assignment]


def default_weights_path() -> Path:
    return user_weights_dir() / WEIGHTS_FILENAME


if torch is not None:

    def _conv_bn(inp: int, oup: int, stride: int = 1, leaky: float = 0.0) -> nn.Sequential:
        return nn.Sequential(nn.Conv2d(inp, oup, 3, stride, 1, bias=False), nn.BatchNorm2d(oup),
                             nn.LeakyReLU(negative_slope=leaky, inplace=True))

    def _conv_bn_no_relu(inp: int, oup: int, stride: int = 1) -> nn.Sequential:
        return nn.Sequential(nn.Conv2d(inp, oup, 3, stride, 1, bias=False), nn.BatchNorm2d(oup))

    def _conv_bn1x1(inp: int, oup: int, stride: int = 1, leaky: float = 0.0) -> nn.Sequential:
        return nn.Sequential(nn.Conv2d(inp, oup, 1, stride, 0, bias=False), nn.BatchNorm2d(oup),
                             nn.LeakyReLU(negative_slope=leaky, inplace=True))

    class Bottleneck(nn.Module):
        expansion = 4

        def __init__(self, inplanes: int, planes: int, stride: int = 1, downsample: nn.Module | None = None) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(planes)
            self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(planes)
            self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
            self.bn3 = nn.BatchNorm2d(planes * 4)
            self.relu = nn.ReLU(inplace=True)
            self.downsample = downsample

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            identity = x if self.downsample is None else self.downsample(x)
            out = self.relu(self.bn1(self.conv1(x)))
            out = self.relu(self.bn2(self.conv2(out)))
            out = self.bn3(self.conv3(out))
            return self.relu(out + identity)

    class ResNet50Body(nn.Module):
        """ResNet-50 up to layer4 (no pooling/fc), returning the outputs of layer2, layer3, layer4."""

        def __init__(self) -> None:
            super().__init__()
            self.inplanes = 64
            self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
            self.bn1 = nn.BatchNorm2d(64)
            self.relu = nn.ReLU(inplace=True)
            self.maxpool = nn.MaxPool2d(3, 2, 1)
            self.layer1 = self._make_layer(64, 3)
            self.layer2 = self._make_layer(128, 4, stride=2)
            self.layer3 = self._make_layer(256, 6, stride=2)
            self.layer4 = self._make_layer(512, 3, stride=2)

        def _make_layer(self, planes: int, blocks: int, stride: int = 1) -> nn.Sequential:
            downsample = None
            if stride != 1 or self.inplanes != planes * 4:
                downsample = nn.Sequential(nn.Conv2d(self.inplanes, planes * 4, 1, stride, bias=False),
                                           nn.BatchNorm2d(planes * 4))
            layers = [Bottleneck(self.inplanes, planes, stride, downsample)]
            self.inplanes = planes * 4
            layers += [Bottleneck(self.inplanes, planes) for _ in range(1, blocks)]
            return nn.Sequential(*layers)

        def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
            x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
            c2 = self.layer2(self.layer1(x))
            c3 = self.layer3(c2)
            c4 = self.layer4(c3)
            return [c2, c3, c4]

    class FPN(nn.Module):
        def __init__(self, in_channels: list[int], out_channels: int) -> None:
            super().__init__()
            leaky = 0.1 if out_channels <= 64 else 0.0
            self.output1 = _conv_bn1x1(in_channels[0], out_channels, leaky=leaky)
            self.output2 = _conv_bn1x1(in_channels[1], out_channels, leaky=leaky)
            self.output3 = _conv_bn1x1(in_channels[2], out_channels, leaky=leaky)
            self.merge1 = _conv_bn(out_channels, out_channels, leaky=leaky)
            self.merge2 = _conv_bn(out_channels, out_channels, leaky=leaky)

        def forward(self, feats: list[torch.Tensor]) -> list[torch.Tensor]:
            o1, o2, o3 = self.output1(feats[0]), self.output2(feats[1]), self.output3(feats[2])
            o2 = self.merge2(o2 + F.interpolate(o3, size=o2.shape[2:], mode="nearest"))
            o1 = self.merge1(o1 + F.interpolate(o2, size=o1.shape[2:], mode="nearest"))
            return [o1, o2, o3]

    class SSH(nn.Module):
        def __init__(self, in_channel: int, out_channel: int) -> None:
            super().__init__()
            leaky = 0.1 if out_channel <= 64 else 0.0
            self.conv3X3 = _conv_bn_no_relu(in_channel, out_channel // 2)
            self.conv5X5_1 = _conv_bn(in_channel, out_channel // 4, leaky=leaky)
            self.conv5X5_2 = _conv_bn_no_relu(out_channel // 4, out_channel // 4)
            self.conv7X7_2 = _conv_bn(out_channel // 4, out_channel // 4, leaky=leaky)
            self.conv7x7_3 = _conv_bn_no_relu(out_channel // 4, out_channel // 4)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            c5_1 = self.conv5X5_1(x)
            out = torch.cat([self.conv3X3(x), self.conv5X5_2(c5_1), self.conv7x7_3(self.conv7X7_2(c5_1))], dim=1)
            return F.relu(out)

    class _Head(nn.Module):
        def __init__(self, inchannels: int, num_anchors: int, width: int) -> None:
            super().__init__()
            self.width = width
            self.conv1x1 = nn.Conv2d(inchannels, num_anchors * width, kernel_size=1)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            out = self.conv1x1(x).permute(0, 2, 3, 1).contiguous()
            return out.view(out.shape[0], -1, self.width)

    class RetinaFaceResNet50(nn.Module):
        """Outputs (loc (B, N, 4), conf (B, N, 2) softmaxed, landmarks (B, N, 10))."""

        def __init__(self) -> None:
            super().__init__()
            self.body = ResNet50Body()
            self.fpn = FPN([512, 1024, 2048], 256)
            self.ssh1, self.ssh2, self.ssh3 = SSH(256, 256), SSH(256, 256), SSH(256, 256)
            self.ClassHead = nn.ModuleList([_Head(256, 2, 2) for _ in range(3)])
            self.BboxHead = nn.ModuleList([_Head(256, 2, 4) for _ in range(3)])
            self.LandmarkHead = nn.ModuleList([_Head(256, 2, 10) for _ in range(3)])

        def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
            p = self.fpn(self.body(x))
            feats = [self.ssh1(p[0]), self.ssh2(p[1]), self.ssh3(p[2])]
            loc = torch.cat([h(f) for h, f in zip(self.BboxHead, feats, strict=True)], dim=1)
            conf = torch.cat([h(f) for h, f in zip(self.ClassHead, feats, strict=True)], dim=1)
            ldm = torch.cat([h(f) for h, f in zip(self.LandmarkHead, feats, strict=True)], dim=1)
            return loc, F.softmax(conf, dim=-1), ldm


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def weights_version(sha: str) -> str:
    return f"Resnet50_Final-{sha[:12]}"


def weights_source(path: Path, sha: str) -> str:
    return f"operator-supplied {path.name} (sha256 {sha})"


def default_version() -> str:
    """The version of the installed weights file (read, never loaded into the network)."""
    return weights_version(file_sha256(default_weights_path()))


def default_weights_source() -> str:
    path = default_weights_path()
    return weights_source(path, file_sha256(path)) if path.exists() else f"operator-supplied {path.name} (not installed)"


def load_network(path: Path | str) -> Any:
    """Build the network and load ``path`` into it (eval mode). Raises ValueError when the file
    is not a RetinaFace-ResNet-50 state_dict in the public key layout."""
    if torch is None:  # pragma: no cover
        raise DetectorUnavailable("PyTorch is required for retinaface-resnet50")
    try:
        state = torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as exc:
        raise ValueError(f"{path} is not a PyTorch weights file: {exc}") from exc
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if not isinstance(state, dict) or not state:
        raise ValueError(f"{path} does not hold a state_dict")
    state = {(k[len("module."):] if k.startswith("module.") else k): v for k, v in state.items()}
    net = RetinaFaceResNet50()
    result = net.load_state_dict(state, strict=False)
    # Older checkpoints have no BatchNorm counters; anything else missing is a wrong file.
    missing = [k for k in result.missing_keys if not k.endswith("num_batches_tracked")]
    if missing or result.unexpected_keys:
        raise ValueError(f"{path} does not match RetinaFace-ResNet-50: {len(missing)} missing keys "
                         f"(e.g. {missing[:3]}), {len(result.unexpected_keys)} unexpected keys "
                         f"(e.g. {result.unexpected_keys[:3]})")
    net.eval()
    return net


_nets: dict[str, Any] = {}
_lock = threading.Lock()


class RetinaFaceResNet50Detector:
    model_id = "retinaface-resnet50"  # licence: ml.registry

    def __init__(self, *, weights: Path | str | None = None, max_side: int = 1024, score_threshold: float = 0.5,
                 nms_threshold: float = 0.4, threads: int | None = None) -> None:
        path = Path(weights) if weights else default_weights_path()
        if not path.exists():
            raise DetectorUnavailable(INSTALL_HINT.format(filename=path, target=default_weights_path()))
        with _lock:
            key = str(path.resolve())
            if key not in _nets:
                _nets[key] = (load_network(path), file_sha256(path))
            self._net, sha = _nets[key]
        self.version = weights_version(sha)
        self.weights_source = weights_source(path, sha)
        self.max_side = max_side
        self.score_threshold = score_threshold
        self.nms_threshold = nms_threshold
        if threads:
            torch.set_num_threads(threads)

    def detect(self, image: np.ndarray) -> list[Detection]:
        small, scale = resize_long_side(image, self.max_side)
        h, w = small.shape[:2]
        x = cv2.dnn.blobFromImage(small, 1.0, (w, h), MEAN_BGR, swapRB=True)  # BGR - mean, NCHW
        with torch.inference_mode():
            loc, conf, ldm = self._net(torch.from_numpy(np.asarray(x)))
        dets = decode_retinaface(loc[0].numpy(), conf[0].numpy(), ldm[0].numpy(), width=w, height=h,
                                 score_threshold=self.score_threshold, nms_threshold=self.nms_threshold)
        return [d.scaled(1.0 / scale) for d in dets] if scale != 1.0 else dets

