from django.urls import path

from facecommons.releases import dataset_views, views

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
    path("datasets/", dataset_views.dataset_latest, name="dataset-latest"),
    path("datasets/<str:version>/", dataset_views.dataset, name="dataset"),
    path("datasets/<str:version>/citation.<str:fmt>", dataset_views.dataset_citation, name="dataset-citation"),
    path("datasets/<str:version>/thumbnails/<str:sha256>.jpg", dataset_views.dataset_thumbnail,
         name="dataset-thumbnail"),
]
