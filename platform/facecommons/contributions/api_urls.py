from django.urls import path

from facecommons.contributions import api

urlpatterns: list = [
    path("taxonomy/", api.TaxonomyApi.as_view(), name="api-taxonomy"),
    path("contributions/", api.ContributionListApi.as_view(), name="api-contributions"),
    path("contributions/<uuid:pk>/", api.ContributionDetailApi.as_view(), name="api-contribution"),
    path("contributions/<uuid:pk>/review-request/", api.ContributionReviewRequestApi.as_view(),
         name="api-contribution-review-request"),
    path("contributions/<uuid:pk>/image/", api.ContributionImageApi.as_view(), name="api-contribution-image"),
]
