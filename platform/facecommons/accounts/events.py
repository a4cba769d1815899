"""Events of the accounts app (see facecommons.common.events and docs/architecture.md)."""

from facecommons.common.events import Event, Phase

consent_withdrawn = Event(
    "consent_withdrawn", phase=Phase.IN_TRANSACTION,
    payload={"user": "the withdrawing User, locked, not yet anonymised", "withdrawn_at": "the withdrawal's timestamp"},
    doc="A contributor withdrew consent. Sent first in account_withdraw's transaction, before the "
        "account is anonymised; what a receiver deletes goes in the same transaction.",
)
