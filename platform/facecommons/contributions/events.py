"""Events of the contributions app (see facecommons.common.events and docs/architecture.md)."""

from facecommons.common.events import Event, Phase

contribution_received = Event(
    "contribution_received", phase=Phase.ON_COMMIT,
    payload={"contribution_id": "str, the new contribution's UUID"},
    doc="A new upload is stored (status received). The pipeline enqueues its processing.",
)

contribution_status_changed = Event(
    "contribution_status_changed", phase=Phase.ON_COMMIT,
    payload={"contribution": "the Contribution, as saved", "before": "the previous status",
             "after": "the new status (may equal before: a re-run)"},
    doc="Every call of contribution_transition: pipeline outcomes, moderation decisions, review "
        "requests, admin re-runs. Receivers filter on before/after.",
)

contribution_categories_changed = Event(
    "contribution_categories_changed", phase=Phase.IN_TRANSACTION,
    payload={"contribution": "the Contribution, locked, with its new categories saved"},
    doc="The contributor changed the declared categories of a photo not yet reviewed.",
)

contribution_removed = Event(
    "contribution_removed", phase=Phase.IN_TRANSACTION,
    payload={"contribution": "the Contribution, still in the database", "actor": "who deletes it, or None"},
    doc="A contribution is about to be deleted (by its owner, an admin, or a withdrawal); its "
        "rows still exist. Sent before the delete in the same transaction.",
)

contributor_withdrawn = Event(
    "contributor_withdrawn", phase=Phase.IN_TRANSACTION,
    payload={"user": "the withdrawing User, locked", "contribution_ids": "list of the UUIDs about to be deleted",
             "withdrawn_at": "the withdrawal's timestamp"},
    doc="A contributor withdrew: every contribution of theirs is about to be deleted (each also "
        "sends contribution_removed). Sent before the first delete, in the withdrawal's transaction.",
)
