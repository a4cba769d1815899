from django.urls import path

from facecommons.workbench import views

app_name = "workbench"

urlpatterns = [
    path("workbench/", views.workbench, name="home"),
    path("workbench/runs/<int:run_id>/", views.run_detail, name="run"),
    path("workbench/runs/<int:run_id>/cancel/", views.run_cancel, name="cancel"),
    path("workbench/runs/<int:run_id>/register/", views.run_register, name="register"),
    path("workbench/compare/", views.compare, name="compare"),
]
