from django.urls import path

from facecommons.workbench import api

urlpatterns = [
    path("training-runs/", api.TrainingRunListApi.as_view(), name="training-run-list"),
    path("training-runs/<int:run_id>/", api.TrainingRunDetailApi.as_view(), name="training-run-detail"),
    path("training-runs/<int:run_id>/cancel/", api.TrainingRunCancelApi.as_view(), name="training-run-cancel"),
    path("training-runs/<int:run_id>/register/", api.TrainingRunRegisterApi.as_view(), name="training-run-register"),
]
