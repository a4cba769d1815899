from django.urls import path

from facecommons.evaluation import views

app_name = "evaluation"

urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("dashboard/start/", views.start, name="start"),
    path("dashboard/runs/<int:run_id>.<str:fmt>", views.data_download, name="data"),
    path("dashboard/runs/<int:run_id>/curves.json", views.curves_download, name="curves"),
    path("dashboard/runs/<int:run_id>/charts/<str:model_id>/<slug:chart>.<str:fmt>", views.chart_download,
         name="chart"),
]
