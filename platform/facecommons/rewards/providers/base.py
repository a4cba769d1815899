"""The payment-provider interface: how money that arrived becomes a donation in the ledger.

A provider knows where money comes from (a bank transfer, a Web Monetization stream, a card
processor's webhook) and turns it into a call to ``record_donation``; the ledger itself never
changes when a provider is added.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from facecommons.rewards.services import donation_record

if TYPE_CHECKING:
    from facecommons.rewards.models import Donation


@runtime_checkable
class PaymentProvider(Protocol):
    id: str
    label: str

    def record_donation(self, *, amount_minor: int, currency: str | None = None, donor_name: str = "",
                        anonymous: bool = False, reference: str = "", received_at: datetime | None = None,
                        recorded_by: Any | None = None) -> Donation:
        """Record money that has arrived (integer minor units) and return the Donation."""
        ...


class LedgerProvider:
    """Base for providers whose money is confirmed by a person or a verified callback."""

    id = ""
    label = ""

    def record_donation(self, *, amount_minor: int, currency: str | None = None, donor_name: str = "",
                        anonymous: bool = False, reference: str = "", received_at: datetime | None = None,
                        recorded_by: Any | None = None) -> Donation:
        return donation_record(provider=self.id, amount_minor=amount_minor, currency=currency,
                               donor_name=donor_name, anonymous=anonymous, reference=reference,
                               received_at=received_at, recorded_by=recorded_by)
