"""Reference-model workbench: train small models on a snapshot and measure them per group.

- :mod:`ml.workbench.config`: the task names, ``TrainConfig``, ``Hooks``, ``Progress``, ``TrainResult``;
- :mod:`ml.workbench.data`: reading a snapshot (folder or archive), sampling policies, crops;
- :mod:`ml.workbench.tasks`: ``face-vs-background``, ``category``, ``verification``; ``train()``;
- :mod:`ml.workbench.train`: the seeded, resumable, cancellable training loop;
- :mod:`ml.workbench.results`: per-group rows through ``ml.metrics``;
- :mod:`ml.workbench.synthetic`: a tiny generated snapshot for tests.
Never imports Django. This package exports only what needs no PyTorch (the web process reads
configs and results through it); import ``train`` from :mod:`ml.workbench.tasks` where a run trains.
"""

from ml.workbench.config import REGISTRABLE, TASKS, Cancelled, Hooks, Progress, TrainConfig, TrainResult
from ml.workbench.data import Photo, Policy, Snapshot, SnapshotError, load_snapshot, sample

__all__ = ["REGISTRABLE", "TASKS", "Cancelled", "Hooks", "Photo", "Policy", "Progress", "Snapshot", "SnapshotError",
           "TrainConfig", "TrainResult", "load_snapshot", "sample"]
