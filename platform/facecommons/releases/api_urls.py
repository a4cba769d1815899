from django.urls import path

from facecommons.releases import api

urlpatterns = [
    path("snapshots/", api.SnapshotListView.as_view(), name="api-snapshots"),
    path("snapshots/<str:version>/", api.SnapshotDetailView.as_view(), name="api-snapshot"),
    path("snapshots/<str:version>/download/", api.SnapshotDownloadView.as_view(), name="api-snapshot-download"),
    path("snapshots/<str:version>/withdrawn/", api.SnapshotWithdrawnView.as_view(), name="api-snapshot-withdrawn"),
    path("researcher-applications/", api.ApplicationCreateView.as_view(), name="api-researcher-applications"),
    path("researcher-applications/<int:pk>/decision/", api.ApplicationDecisionView.as_view(),
         name="api-researcher-application-decision"),
    path("stats/", api.StatsView.as_view(), name="api-stats"),
]
