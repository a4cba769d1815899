"""Events of the releases app (see facecommons.common.events and docs/architecture.md)."""

from facecommons.common.events import Event, Phase

snapshot_published = Event(
    "snapshot_published", phase=Phase.ON_COMMIT,
    payload={"snapshot_id": "the Snapshot's primary key", "version": "its version, e.g. 2026.11.1"},
    doc="A snapshot build finished and the version is published (snapshot_transition to published).",
)
