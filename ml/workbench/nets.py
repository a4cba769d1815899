"""The small networks the workbench trains from scratch (no downloaded weights)."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


def _block(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
                         nn.MaxPool2d(2))


class FaceBackgroundNet(nn.Module):
    """Three convolution layers and a 4x4 convolution as the classifier (the detector study's
    size). Fully convolutional: on a 32 px window it gives one logit; on a whole image it gives
    a map of logits, one per 32 px window at a stride of 8, which is how the trained model
    becomes a sliding-window face detector at no extra cost."""

    window = 32
    stride = 8

    def __init__(self, width: int = 16) -> None:
        super().__init__()
        self.features = nn.Sequential(_block(3, width), _block(width, 2 * width), _block(2 * width, 4 * width))
        self.head = nn.Conv2d(4 * width, 1, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))  # (N, 1, H/8 - 3, W/8 - 3)

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward(x).flatten(1)[:, 0]


class CategoryNet(nn.Module):
    """Four convolution blocks, global average pooling and a linear classifier, for 48 px crops."""

    def __init__(self, n_classes: int, width: int = 16) -> None:
        super().__init__()
        self.features = nn.Sequential(_block(3, width), _block(width, 2 * width), _block(2 * width, 4 * width),
                                      _block(4 * width, 4 * width))
        self.dropout = nn.Dropout(0.2)
        self.fc = nn.Linear(4 * width, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = self.features(x).mean(dim=(2, 3))
        return self.fc(self.dropout(f))


class EmbeddingNet(nn.Module):
    """The ``CategoryNet`` trunk ending in an L2-normalised embedding."""

    def __init__(self, dim: int = 128, width: int = 24) -> None:
        super().__init__()
        self.features = nn.Sequential(_block(3, width), _block(width, 2 * width), _block(2 * width, 4 * width),
                                      _block(4 * width, 4 * width))
        self.fc = nn.Linear(4 * width, dim)
        self.bn = nn.BatchNorm1d(dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.bn(self.fc(self.features(x).mean(dim=(2, 3)))), dim=1)


class CosFaceHead(nn.Module):
    """Large-margin cosine loss (CosFace, Wang et al. 2018): logits s * (cos θ − m) for the true
    identity, s * cos θ for the others. The margin forces identities apart on the sphere, which
    is what makes a single distance threshold work across people."""

    def __init__(self, dim: int, n_classes: int, scale: float = 30.0, margin: float = 0.35) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(n_classes, dim) * 0.01)
        self.scale, self.margin = scale, margin

    def forward(self, emb: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        cos = emb @ F.normalize(self.weight, dim=1).T
        onehot = F.one_hot(target, cos.shape[1]).to(cos.dtype)
        return F.cross_entropy(self.scale * (cos - self.margin * onehot), target)
