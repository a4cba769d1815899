from facecommons.rewards.providers.base import LedgerProvider


class ManualProvider(LedgerProvider):
    """An admin records a transfer that arrived on the bank account (or cash, or a cheque)."""

    id = "manual"
    label = "Manual (bank transfer recorded by an admin)"
