"""What a workbench run is, as plain data: the task names, the config that decides what a run
computes, the hooks its caller passes, its progress and its result. Never imports PyTorch (nor
Django): the web process checks a recipe and reads these without loading the training code."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ml.metrics.groups import MetricRow
from ml.workbench.data import Policy

TASKS = ("face-vs-background", "category", "verification")
#: The tasks whose trained model the evaluation can measure, and what it becomes there.
REGISTRABLE = {"face-vs-background": "detection", "verification": "verification"}


class Cancelled(Exception):
    """``Hooks.should_stop`` said stop: the last checkpoint stays, nothing else is written."""


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides what a run computes (its checkpoint is only reused for the same)."""

    task: str
    policy: Policy = field(default_factory=Policy)
    seed: int = 0
    category: str = ""  # the category task's target
    epochs: int = 8
    batch_size: int = 64
    lr: float = 2e-3
    steps_per_epoch: int | None = None  # cap (tests train a few steps)
    backgrounds_per_photo: int = 2
    target_fpr: float = 0.05  # face-vs-background: false alarms allowed on validation backgrounds
    target_fmr: float = 1e-3  # verification: false-match rate the threshold is set to on validation
    min_group_size: int = 30
    n_boot: int = 200
    baseline: bool = True  # verification: also measure the frozen dlib embedding
    max_test_photos: int | None = None

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise ValueError(f"unknown task {self.task!r}: use one of {', '.join(TASKS)}")
        if self.task == "category" and not self.category:
            raise ValueError("the category task needs a category to predict")
        if self.epochs < 1 or self.batch_size < 2:
            raise ValueError("epochs must be >= 1 and batch_size >= 2")

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["policy"] = self.policy.as_dict()
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrainConfig:
        d = dict(d)
        pol = d.pop("policy", None) or {}
        policy = Policy(kind=pol.get("kind", "as_is"), category=pol.get("category", ""),
                        values=tuple(pol.get("values") or ()), max_photos=pol.get("max_photos"))
        known = {f for f in cls.__dataclass_fields__}
        return cls(policy=policy, **{k: v for k, v in d.items() if k in known})

    def fingerprint(self) -> str:
        return hashlib.sha256(json.dumps(self.as_dict(), sort_keys=True).encode()).hexdigest()[:16]


@dataclass
class Progress:
    epoch: int  # 1-based, epochs finished
    epochs: int
    loss: float
    validation: float
    validation_name: str
    steps: int


@dataclass
class Hooks:
    progress: Callable[[Progress], None] | None = None
    should_stop: Callable[[], bool] | None = None
    checkpoint_dir: Path | None = None
    threads: int | None = None
    # Written into each epoch's history entry (and so into the checkpoint): the caller's label for
    # who trained it, e.g. ``{"attempt": 2}``; a resumed run keeps the labels of earlier epochs.
    tag: dict[str, Any] = field(default_factory=dict)


@dataclass
class TrainResult:
    task: str
    rows: list[MetricRow]
    summary: dict[str, Any]
    history: list[dict[str, Any]]
    training_set: list[dict[str, Any]]  # what the model saw: path, subject, labels
    model: dict[str, Any]  # {"state_dict", "meta"}: what ``save_model`` writes
    baseline_rows: list[MetricRow] = field(default_factory=list)
