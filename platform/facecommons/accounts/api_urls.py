from django.urls import path

from facecommons.accounts import api

urlpatterns: list = [
    path("auth/token/", api.TokenApi.as_view(), name="api-token"),
    path("consent/", api.ConsentApi.as_view(), name="api-consent"),
    path("me/export/", api.ExportApi.as_view(), name="api-export"),
    path("me/withdraw/", api.WithdrawApi.as_view(), name="api-withdraw"),
]
