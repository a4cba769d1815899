from django.urls import path

from facecommons.accounts import views

urlpatterns: list = [
    path("consent/", views.consent_page, name="consent"),
    path("account/", views.account_page, name="account"),
    path("my/export/", views.export_page, name="my-export"),
    path("my/withdraw/", views.withdraw_page, name="my-withdraw"),
]
