from django.urls import path

from facecommons.releases import views

urlpatterns = [
    path("research/", views.research, name="research"),
    path("research/apply/", views.research_apply, name="research-apply"),
    path("research/agreement/", views.research_accept, name="research-accept"),
    path("research/tokens/", views.token_create, name="research-token-create"),
    path("research/tokens/<int:pk>/revoke/", views.token_revoke, name="research-token-revoke"),
    path("research/notices/read/", views.notices_read, name="research-notices-read"),
    path("research/snapshots/<str:version>/download/", views.research_download, name="research-download"),
    path("snapshots/", views.snapshots, name="snapshots"),
    path("snapshots/build/", views.snapshot_build, name="snapshot-build"),
    path("snapshots/<str:version>/progress/", views.snapshot_progress, name="snapshot-progress"),
    path("stats/", views.stats, name="stats"),
]
