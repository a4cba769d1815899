"""Events of the moderation app (see facecommons.common.events and docs/architecture.md)."""

from facecommons.common.events import Event, Phase

flag_changed = Event(
    "flag_changed", phase=Phase.IN_TRANSACTION,
    payload={"contribution_id": "UUID of the flagged contribution", "kind": "the FlagKind",
             "resolved": "True once a moderator judged it a false positive"},
    doc="An abuse or duplicate flag was raised on a contribution, or resolved (or re-opened in the admin).",
)
