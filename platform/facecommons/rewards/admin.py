"""Admin: the ledger and points are read-only; donations are recorded through a provider;
payout rounds are started with a button and exported as CSV."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import path, reverse

from facecommons.common.admin import ReadOnlyAdmin
from facecommons.rewards.ledger import LedgerError
from facecommons.rewards.models import (
    Account,
    Donation,
    Entry,
    MultiplierSnapshot,
    PayoutLine,
    PayoutRound,
    PointsEntry,
    RewardsProfile,
    Transaction,
)
from facecommons.rewards.multipliers import multipliers_compute
from facecommons.rewards.payouts import payout_round_csv, payout_round_mark_paid, payout_round_run
from facecommons.rewards.providers import get_provider, list_providers


class EntryInline(admin.TabularInline):
    model = Entry
    extra = 0
    can_delete = False
    readonly_fields = ("account", "amount_minor")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    list_display = ("id", "kind", "currency", "label", "user", "created_at")
    list_filter = ("kind", "currency")
    search_fields = ("label", "user__email")


@admin.register(Transaction)
class TransactionAdmin(ReadOnlyAdmin):
    list_display = ("id", "kind", "currency", "created_at", "memo")
    list_filter = ("kind", "currency")
    inlines = [EntryInline]


@admin.register(Entry)
class EntryAdmin(ReadOnlyAdmin):
    list_display = ("id", "transaction", "account", "amount_minor")
    list_filter = ("account__kind",)


class DonationForm(forms.ModelForm):
    provider = forms.ChoiceField(choices=())
    amount_minor = forms.IntegerField(min_value=1, help_text="In cents: 12.50 EUR is 1250.")

    class Meta:
        model = Donation
        fields = ["provider", "amount_minor", "currency", "donor_name", "anonymous", "reference", "received_at"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["provider"].choices = [  # type: ignore[attr-defined]
            (p.id, p.label) for p in list_providers()]
        self.fields["currency"].required = False


@admin.register(Donation)
class DonationAdmin(admin.ModelAdmin):
    """Adding a donation calls the provider's record_donation: the ledger is written by the service."""

    form = DonationForm
    list_display = ("received_at", "provider", "amount_minor", "currency", "donor_name", "anonymous", "reference")
    list_filter = ("provider", "currency", "anonymous")
    search_fields = ("donor_name", "reference")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Donation, form: Any, change: bool) -> None:
        d = form.cleaned_data
        try:
            saved = get_provider(d["provider"]).record_donation(
                amount_minor=d["amount_minor"], currency=d.get("currency") or None, donor_name=d.get("donor_name", ""),
                anonymous=d.get("anonymous", False), reference=d.get("reference", ""),
                received_at=d.get("received_at"), recorded_by=request.user)
        except LedgerError as exc:
            messages.error(request, str(exc))
            obj.pk = None
            return
        obj.pk = saved.pk

    def response_add(self, request: HttpRequest, obj: Donation, post_url_continue: Any = None) -> HttpResponse:
        if obj.pk is None:
            return HttpResponseRedirect(reverse("admin:rewards_donation_add"))
        return super().response_add(request, obj, post_url_continue)


class PayoutLineInline(admin.TabularInline):
    model = PayoutLine
    extra = 0
    can_delete = False
    readonly_fields = ("pseudonym", "user", "points", "amount_minor", "status", "status_changed_at")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(PayoutRound)
class PayoutRoundAdmin(ReadOnlyAdmin):
    list_display = ("period", "started_at", "currency", "pool_before_minor", "distributed_minor", "total_points", "paid_at")
    inlines = [PayoutLineInline]
    actions = ["export_csv", "mark_paid"]
    change_list_template = "admin/rewards/payoutround/change_list.html"

    def get_urls(self) -> list:
        return [path("start/", self.admin_site.admin_view(self.start_view), name="rewards_payoutround_start"),
                *super().get_urls()]

    def start_view(self, request: HttpRequest) -> HttpResponse:
        if request.method != "POST" or not request.user.is_superuser:
            messages.error(request, "Start a payout round with the button (admins only).")
        else:
            rnd = payout_round_run(started_by=request.user)
            messages.success(request, f"Payout round {rnd.period}: {rnd.distributed_minor} minor units to "
                                      f"{rnd.lines.count()} contributors.")
        return HttpResponseRedirect(reverse("admin:rewards_payoutround_changelist"))

    @admin.action(description="Export selected rounds as CSV (for whoever pays people out)")
    def export_csv(self, request: HttpRequest, queryset: Any) -> HttpResponse:
        body = "".join(payout_round_csv(r, exported_by=request.user) if i == 0 else
                       payout_round_csv(r, exported_by=request.user).split("\n", 1)[1]
                       for i, r in enumerate(queryset.order_by("started_at")))
        resp = HttpResponse(body, content_type="text/csv")
        resp["Content-Disposition"] = 'attachment; filename="payout-rounds.csv"'
        return resp

    @admin.action(description="Mark selected rounds as paid")
    def mark_paid(self, request: HttpRequest, queryset: Any) -> None:
        for rnd in queryset:
            payout_round_mark_paid(payout_round=rnd, paid_by=request.user)
        messages.success(request, "Marked as paid.")

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser or super().has_view_permission(request, obj)


@admin.register(PayoutLine)
class PayoutLineAdmin(ReadOnlyAdmin):
    list_display = ("round", "pseudonym", "points", "amount_minor", "status")
    list_filter = ("status", "round")


@admin.register(PointsEntry)
class PointsEntryAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "user", "contribution_id", "kind", "points", "multiplier", "capped", "reason",
                    "payout_round")
    list_filter = ("kind", "reason", "capped")
    search_fields = ("contribution_id", "user__pseudonym")


@admin.register(MultiplierSnapshot)
class MultiplierSnapshotAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "approved_total", "base_points", "max_multiplier")
    actions = ["recompute"]

    @admin.action(description="Recompute the multipliers now")
    def recompute(self, request: HttpRequest, queryset: Any) -> None:
        multipliers_compute()
        messages.success(request, "Multipliers recomputed.")


@admin.register(RewardsProfile)
class RewardsProfileAdmin(admin.ModelAdmin):
    list_display = ("user", "declined", "changed_at")
    list_filter = ("declined",)
    readonly_fields = ("user", "declined", "changed_at")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
