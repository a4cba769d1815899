"""Rewards API (mounted under /api/v1/)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny, BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from facecommons.accounts.roles import is_admin
from facecommons.common.api import ApiError
from facecommons.rewards.models import Donation, PayoutRound, format_minor
from facecommons.rewards.multipliers import multipliers_current, multipliers_table
from facecommons.rewards.payouts import payout_round_run
from facecommons.rewards.providers import UnknownProvider, get_provider, list_providers
from facecommons.rewards.selectors import user_rewards


class IsPlatformAdmin(BasePermission):
    message = "Only admins may do this."

    def has_permission(self, request: Request, view: Any) -> bool:
        return is_admin(request.user)


@extend_schema_field(OpenApiTypes.INT)
class StrictIntegerField(serializers.Field):
    """An integer number of minor units. Floats (even 10.0) and strings are refused: money is
    never a float, and a silent conversion would hide a client bug."""

    default_error_messages = {
        "type": "Must be an integer number of minor units (e.g. 1250 for 12.50), not a {kind}.",
        "range": "Must be a positive integer.",
    }

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("type", kind=type(data).__name__)
        if data <= 0:
            self.fail("range")
        return data

    def to_representation(self, value: Any) -> int:
        return int(value)


class DonationInSerializer(serializers.Serializer):
    amount_minor = StrictIntegerField()
    currency = serializers.CharField(max_length=3, min_length=3, required=False)
    donor_name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    anonymous = serializers.BooleanField(required=False, default=False)
    source = serializers.CharField(max_length=40, required=False, default="manual")  # type: ignore[assignment]
    reference = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    received_at = serializers.DateTimeField(required=False)

    def validate_source(self, value: str) -> str:
        ids = [p.id for p in list_providers()]
        if value not in ids:
            raise serializers.ValidationError(f"Unknown source; one of: {', '.join(ids)}.")
        return value


class DonationOutSerializer(serializers.ModelSerializer):
    source = serializers.CharField(source="provider")  # type: ignore[assignment]
    display = serializers.SerializerMethodField()

    class Meta:
        model = Donation
        fields = ["id", "amount_minor", "currency", "display", "donor_name", "anonymous", "source", "reference",
                  "received_at", "transaction"]

    def get_display(self, obj: Donation) -> str:
        return format_minor(obj.amount_minor, obj.currency)


# Response shapes, for the OpenAPI schema (the views build plain dicts from selectors).
class MoneySerializer(serializers.Serializer):
    amount_minor = serializers.IntegerField()
    currency = serializers.CharField()
    display = serializers.CharField()


class PointsSummarySerializer(serializers.Serializer):
    total = serializers.DecimalField(max_digits=14, decimal_places=2)
    since_last_round = serializers.DecimalField(max_digits=14, decimal_places=2)
    this_month = serializers.DecimalField(max_digits=14, decimal_places=2)
    monthly_cap = serializers.DecimalField(max_digits=14, decimal_places=2)


class PointsHistorySerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["credit", "reversal"])
    points = serializers.DecimalField(max_digits=10, decimal_places=2)
    multiplier = serializers.DecimalField(max_digits=8, decimal_places=4)
    capped = serializers.BooleanField()
    reason = serializers.CharField()
    contribution_id = serializers.UUIDField()
    created_at = serializers.DateTimeField()
    settled_in_round = serializers.CharField(allow_null=True)


class UserPayoutSerializer(MoneySerializer):
    round = serializers.CharField()
    points = serializers.DecimalField(max_digits=14, decimal_places=2)
    status = serializers.CharField()


class MeRewardsSerializer(serializers.Serializer):
    declined = serializers.BooleanField()
    points = PointsSummarySerializer()
    balance = MoneySerializer()
    paid_out = MoneySerializer()
    history = PointsHistorySerializer(many=True)
    payouts = UserPayoutSerializer(many=True)


class MultiplierValueSerializer(serializers.Serializer):
    value = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]
    multiplier = serializers.DecimalField(max_digits=8, decimal_places=4)
    points = serializers.DecimalField(max_digits=10, decimal_places=2)
    approved_photos = serializers.IntegerField()


class MultiplierCategorySerializer(serializers.Serializer):
    category = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]
    values = MultiplierValueSerializer(many=True)


class MultipliersSerializer(serializers.Serializer):
    computed_at = serializers.DateTimeField()
    approved_photos = serializers.IntegerField()
    base_points = serializers.IntegerField()
    max_multiplier = serializers.DecimalField(max_digits=6, decimal_places=2)
    categories = MultiplierCategorySerializer(many=True)


class PayoutLineOutSerializer(serializers.Serializer):
    pseudonym = serializers.CharField()
    points = serializers.DecimalField(max_digits=14, decimal_places=2)
    amount_minor = serializers.IntegerField()
    status = serializers.CharField()


class PayoutRoundOutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    period = serializers.CharField()
    currency = serializers.CharField()
    started_at = serializers.DateTimeField()
    cutoff = serializers.DateTimeField()
    pool_before_minor = serializers.IntegerField()
    distributed_minor = serializers.IntegerField()
    total_points = serializers.DecimalField(max_digits=14, decimal_places=2)
    paid_at = serializers.DateTimeField(allow_null=True)
    lines = PayoutLineOutSerializer(many=True)


def round_data(rnd: PayoutRound) -> dict[str, Any]:
    return {
        "id": rnd.pk, "period": rnd.period, "currency": rnd.currency, "started_at": rnd.started_at,
        "cutoff": rnd.cutoff, "pool_before_minor": rnd.pool_before_minor, "distributed_minor": rnd.distributed_minor,
        "total_points": str(rnd.total_points), "paid_at": rnd.paid_at,
        "lines": [{"pseudonym": ln.pseudonym, "points": str(ln.points), "amount_minor": ln.amount_minor,
                   "status": ln.status} for ln in rnd.lines.order_by("id")],
    }


class RefuseNonJsonMixin:
    def _data(self, request: Request) -> dict[str, Any]:
        if not isinstance(request.data, dict):
            raise ApiError(gettext("Send a JSON object."), code="invalid")
        return request.data


class MeRewardsView(APIView):
    @extend_schema(responses=MeRewardsSerializer, summary="My points, balance, history and payouts")
    def get(self, request: Request) -> Response:
        return Response(user_rewards(request.user))


class MultipliersView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(responses=MultipliersSerializer, summary="Current scarcity multipliers per category value")
    def get(self, request: Request) -> Response:
        snap = multipliers_current()
        return Response({"computed_at": snap.created_at, "approved_photos": snap.approved_total,
                         "base_points": snap.base_points, "max_multiplier": str(snap.max_multiplier),
                         "categories": multipliers_table(snap)})


class DonationsView(RefuseNonJsonMixin, APIView):
    permission_classes = [IsPlatformAdmin]

    @extend_schema(request=DonationInSerializer, responses={201: DonationOutSerializer},
                   summary="Record a received donation (admins)")
    def post(self, request: Request) -> Response:
        ser = DonationInSerializer(data=self._data(request))
        ser.is_valid(raise_exception=True)
        d = ser.validated_data
        try:
            provider = get_provider(d["source"])
            donation = provider.record_donation(
                amount_minor=d["amount_minor"], currency=d.get("currency"), donor_name=d["donor_name"],
                anonymous=d["anonymous"], reference=d["reference"], received_at=d.get("received_at"),
                recorded_by=request.user)
        except UnknownProvider as exc:
            raise ApiError(f"Unknown source {exc}.", code="invalid", fields={"source": ["Unknown source."]}) from exc
        return Response(DonationOutSerializer(donation).data, status=201)


class PayoutRoundsView(RefuseNonJsonMixin, APIView):
    permission_classes = [IsPlatformAdmin]

    @extend_schema(responses=inline_serializer("PayoutRoundList", {"results": PayoutRoundOutSerializer(many=True)}),
                   summary="List the last 50 payout rounds (admins)")
    def get(self, request: Request) -> Response:
        return Response({"results": [round_data(r) for r in PayoutRound.objects.all()[:50]]})

    @extend_schema(request=None, responses={200: PayoutRoundOutSerializer, 201: PayoutRoundOutSerializer},
                   summary="Run this month's payout round (admins); returns the round and its lines")
    def post(self, request: Request) -> Response:
        known = set(PayoutRound.objects.values_list("pk", flat=True))
        rnd = payout_round_run(started_by=request.user)
        return Response(round_data(rnd), status=200 if rnd.pk in known else 201)
