from django.urls import path

from facecommons.evaluation import api

urlpatterns = [
    path("evaluations/", api.EvaluationListApi.as_view(), name="evaluation-list"),
    path("evaluations/latest/", api.EvaluationLatestApi.as_view(), name="evaluation-latest"),
    path("gatekeeper/", api.GatekeeperApi.as_view(), name="gatekeeper"),
    path("evaluations/<int:run_id>/", api.EvaluationDetailApi.as_view(), name="evaluation-detail"),
]
