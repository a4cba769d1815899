"""Reference-model workbench: train small models on a snapshot and measure them per group.

- :mod:`ml.workbench.data`: reading a snapshot (folder or archive), sampling policies, crops;
- :mod:`ml.workbench.tasks`: ``face-vs-background``, ``category``, ``verification``; ``train()``;
- :mod:`ml.workbench.train`: the seeded, resumable, cancellable training loop;
- :mod:`ml.workbench.results`: per-group rows through ``ml.metrics``;
- :mod:`ml.workbench.synthetic`: a tiny generated snapshot for tests.
Never imports Django.
"""

from ml.workbench.data import Photo, Policy, Snapshot, SnapshotError, load_snapshot, sample
from ml.workbench.tasks import train
from ml.workbench.train import TASKS, Cancelled, Hooks, Progress, TrainConfig, TrainResult

__all__ = ["TASKS", "Cancelled", "Hooks", "Photo", "Policy", "Progress", "Snapshot", "SnapshotError", "TrainConfig",
           "TrainResult", "load_snapshot", "sample", "train"]
