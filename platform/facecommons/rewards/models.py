"""Rewards: donations, a double-entry money ledger, a points ledger, multipliers and payout rounds.

Money is always an integer number of minor units (cents) with an ISO currency code; Decimal
is used only to display it. Ledger and points rows are append-only: a mistake is corrected by
a new transaction (or a reversal row), never by editing or deleting one.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AppendOnlyMixin:
    """Refuse updates and deletes from the application (the admin shows these read-only)."""

    # Fields a service may still set after the insert (settlement bookkeeping only).
    mutable_fields: tuple[str, ...] = ()

    def save(self, *args: Any, **kwargs: Any) -> None:
        if getattr(self, "pk", None) is not None and not kwargs.get("force_insert"):
            fields = kwargs.get("update_fields")
            if not fields or not set(fields) <= set(self.mutable_fields):
                raise PermissionError(f"{type(self).__name__} rows are append-only.")
        super().save(*args, **kwargs)  # type: ignore[misc]

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise PermissionError(f"{type(self).__name__} rows are append-only.")


def format_minor(amount_minor: int, currency: str) -> str:
    """'12.34 EUR' from 1234 (two decimal places: every currency we accept has them)."""
    return f"{(Decimal(amount_minor) / 100).quantize(Decimal('0.01'))} {currency}"


class AccountKind(models.TextChoices):
    POOL = "pool", _("Reward pool")
    DONATIONS = "donations", _("Donors (external source)")
    PAYABLE = "payable", _("Payable to a contributor")
    PAID_OUT = "paid_out", _("Paid out (external sink)")


class Account(models.Model):
    """A ledger account. Its balance is the sum of its entries (positive = holds money).

    Sign convention: money moves from one account to another; the source gets a negative
    entry and the destination a positive one, so the external "donations" account goes
    negative by the total donated and the sum over all accounts is always zero.
    """

    kind = models.CharField(max_length=12, choices=AccountKind.choices)
    currency = models.CharField(max_length=3)
    # Only for PAYABLE accounts. SET_NULL keeps the books if an account is ever erased.
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="reward_accounts")
    label = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kind", "currency", "id"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "currency"], condition=~models.Q(kind="payable"),
                                    name="rewards_one_system_account_per_currency"),
            models.UniqueConstraint(fields=["user", "currency"], condition=models.Q(kind="payable"),
                                    name="rewards_one_payable_per_user_currency"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.currency}{f' ({self.label})' if self.label else ''}"


class Transaction(AppendOnlyMixin, models.Model):
    """One balanced movement of money: its entries sum to zero (service + PostgreSQL trigger)."""

    class Kind(models.TextChoices):
        DONATION = "donation", _("Donation received")
        ALLOCATION = "allocation", _("Payout round allocation")
        PAYMENT = "payment", _("Paid out to a contributor")
        FORFEIT = "forfeit", _("Unpaid balance forfeited to the pool")

    kind = models.CharField(max_length=12, choices=Kind.choices)
    currency = models.CharField(max_length=3)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    memo = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.kind} {self.created_at:%Y-%m-%d}"


class Entry(AppendOnlyMixin, models.Model):
    transaction = models.ForeignKey(Transaction, on_delete=models.PROTECT, related_name="entries")
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="entries")
    amount_minor = models.BigIntegerField(help_text="signed, minor units; + into the account, - out of it")

    class Meta:
        ordering = ["id"]
        constraints = [models.CheckConstraint(condition=~models.Q(amount_minor=0), name="rewards_entry_nonzero")]

    def __str__(self) -> str:
        return f"{self.account}: {self.amount_minor:+d}"


class Donation(AppendOnlyMixin, models.Model):
    """A donation as recorded by a payment provider; its money is in ``transaction``."""

    provider = models.CharField(max_length=40, help_text="payment provider id (source)")
    amount_minor = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    donor_name = models.CharField(max_length=200, blank=True)
    anonymous = models.BooleanField(default=False)
    reference = models.CharField(max_length=200, blank=True,
                                 help_text="provider reference (bank transfer id, receipt id); recording it twice is refused")
    received_at = models.DateTimeField(default=timezone.now)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    transaction = models.OneToOneField(Transaction, on_delete=models.PROTECT, related_name="donation")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount_minor__gt=0), name="rewards_donation_positive"),
            models.UniqueConstraint(fields=["provider", "reference"], condition=~models.Q(reference=""),
                                    name="rewards_donation_reference_once",
                                    violation_error_message="A donation with this reference from this provider "
                                                            "is already recorded."),
        ]

    def __str__(self) -> str:
        return f"{format_minor(self.amount_minor, self.currency)} via {self.provider}"

    @property
    def display_donor(self) -> str:
        return "Anonymous" if self.anonymous or not self.donor_name else self.donor_name


class RewardsProfile(models.Model):
    """A contributor's choice about rewards. No row means: takes part (the default)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="rewards_profile")
    declined = models.BooleanField(default=False)
    changed_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.user_id}: {'declined' if self.declined else 'takes part'}"


class MultiplierSnapshot(AppendOnlyMixin, models.Model):
    """The published scarcity multipliers at one moment; approvals use the latest one.

    ``data``: {category key: {value key: "multiplier as decimal string"}};
    ``counts``: {category key: {value key: approved photos with it}}.
    """

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    approved_total = models.PositiveIntegerField()
    data = models.JSONField(default=dict)
    counts = models.JSONField(default=dict)
    base_points = models.PositiveIntegerField()
    max_multiplier = models.DecimalField(max_digits=6, decimal_places=2)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"multipliers at {self.created_at:%Y-%m-%d %H:%M}"


class PayoutRound(AppendOnlyMixin, models.Model):
    """One split of the pool. ``period`` (e.g. "2026-11") is unique: a round runs once."""

    mutable_fields = ("paid_at", "paid_by")

    period = models.CharField(max_length=20, unique=True)
    currency = models.CharField(max_length=3)
    started_at = models.DateTimeField(default=timezone.now)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    cutoff = models.DateTimeField(help_text="points entries created up to this moment are settled by this round")
    pool_before_minor = models.BigIntegerField()
    distributed_minor = models.BigIntegerField()
    total_points = models.DecimalField(max_digits=14, decimal_places=2)
    transaction = models.OneToOneField(Transaction, null=True, blank=True, on_delete=models.PROTECT,
                                       related_name="payout_round")
    paid_at = models.DateTimeField(null=True, blank=True)
    paid_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+")

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"Payout round {self.period}"


class PayoutLine(AppendOnlyMixin, models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("To be paid")
        PAID = "paid", _("Paid")
        FORFEITED = "forfeited", _("Forfeited (consent withdrawn)")

    mutable_fields = ("status", "status_changed_at")

    round = models.ForeignKey(PayoutRound, on_delete=models.PROTECT, related_name="lines")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="payout_lines")
    pseudonym = models.CharField(max_length=20)
    points = models.DecimalField(max_digits=14, decimal_places=2)
    amount_minor = models.BigIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    status_changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["round", "-amount_minor", "id"]
        constraints = [models.UniqueConstraint(fields=["round", "user"], name="rewards_one_line_per_user_round")]

    def __str__(self) -> str:
        return f"{self.round.period} {self.pseudonym}: {self.amount_minor}"


class PointsEntry(AppendOnlyMixin, models.Model):
    """Points of one contribution: a credit at approval, a reversal when it stops earning.

    ``contribution_id`` is not a foreign key on purpose: the rows outlive a deleted
    contribution (that is when the reversal is written). ``generation`` counts credits of one
    contribution (re-approved after a reversal earns again); the unique constraint makes a
    concurrent double credit impossible.
    """

    class Kind(models.TextChoices):
        CREDIT = "credit", _("Credit")
        REVERSAL = "reversal", _("Reversal")

    mutable_fields = ("payout_round",)

    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="points_entries")
    contribution_id = models.UUIDField(db_index=True)
    generation = models.PositiveIntegerField()
    kind = models.CharField(max_length=10, choices=Kind.choices)
    # Positive for credits; a reversal repeats the credited points (its effect is subtractive).
    points = models.DecimalField(max_digits=10, decimal_places=2)
    base_points = models.PositiveIntegerField()
    multiplier = models.DecimalField(max_digits=8, decimal_places=4, help_text="frozen at approval")
    capped = models.BooleanField(default=False, help_text="reduced by the monthly cap")
    categories = models.JSONField(default=dict, blank=True, help_text="effective categories at approval")
    snapshot = models.ForeignKey(MultiplierSnapshot, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+")
    reason = models.CharField(max_length=40)
    reverses = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="reversed_by")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    payout_round = models.ForeignKey(PayoutRound, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="points_entries")

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "points entries"
        constraints = [
            models.UniqueConstraint(fields=["contribution_id", "generation", "kind"],
                                    name="rewards_points_once_per_generation"),
            models.CheckConstraint(condition=models.Q(points__gte=0), name="rewards_points_nonnegative"),
        ]
        indexes = [models.Index(fields=["user", "created_at"]), models.Index(fields=["payout_round", "created_at"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.points} for {self.contribution_id}"
