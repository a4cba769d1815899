from django.urls import path

from facecommons.releases import api, api_contents

urlpatterns = [
    path("snapshots/", api.SnapshotListView.as_view(), name="api-snapshots"),
    path("snapshots/signing-key/", api_contents.SigningKeyView.as_view(), name="api-snapshot-signing-key"),
    path("snapshots/<str:version>/", api.SnapshotDetailView.as_view(), name="api-snapshot"),
    path("snapshots/<str:version>/download/", api.SnapshotDownloadView.as_view(), name="api-snapshot-download"),
    path("snapshots/<str:version>/manifest/", api_contents.ManifestView.as_view(), name="api-snapshot-manifest"),
    path("snapshots/<str:version>/delta/", api_contents.DeltaView.as_view(), name="api-snapshot-delta"),
    path("snapshots/<str:version>/files/<path:path>", api_contents.FileView.as_view(), name="api-snapshot-file"),
    path("snapshots/<str:version>/metadata/", api_contents.MetadataView.as_view(), name="api-snapshot-metadata"),
    path("snapshots/<str:version>/removals/", api_contents.RemovalsView.as_view(), name="api-snapshot-removals"),
    path("snapshots/<str:version>/removals/ack/", api_contents.RemovalAckView.as_view(),
         name="api-snapshot-removals-ack"),
    path("snapshots/<str:version>/withdrawn/", api.SnapshotWithdrawnView.as_view(), name="api-snapshot-withdrawn"),
    path("researcher-applications/", api.ApplicationCreateView.as_view(), name="api-researcher-applications"),
    path("researcher-applications/<int:pk>/decision/", api.ApplicationDecisionView.as_view(),
         name="api-researcher-application-decision"),
    path("stats/", api.StatsView.as_view(), name="api-stats"),
]
