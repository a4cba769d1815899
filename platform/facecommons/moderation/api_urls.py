from django.urls import path

from facecommons.moderation import api

urlpatterns: list = [
    path("moderation/next/", api.NextApi.as_view(), name="api-moderation-next"),
    path("moderation/<uuid:pk>/decision/", api.DecisionApi.as_view(), name="api-moderation-decision"),
]
