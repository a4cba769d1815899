from django.urls import path

from facecommons.rewards import api

urlpatterns = [
    path("me/rewards/", api.MeRewardsView.as_view(), name="api-me-rewards"),
    path("rewards/multipliers/", api.MultipliersView.as_view(), name="api-rewards-multipliers"),
    path("donations/", api.DonationsView.as_view(), name="api-donations"),
    path("payout-rounds/", api.PayoutRoundsView.as_view(), name="api-payout-rounds"),
]
