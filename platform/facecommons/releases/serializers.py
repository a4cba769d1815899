from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework import serializers

from facecommons.common.fields import AcceptField
from facecommons.releases.models import ResearcherApplication, Snapshot
from facecommons.releases.selectors import snapshot_progress


class SnapshotSerializer(serializers.ModelSerializer):
    previous: serializers.SlugRelatedField = serializers.SlugRelatedField(slug_field="version", read_only=True,
                                                                          allow_null=True)
    purge_of: serializers.SlugRelatedField = serializers.SlugRelatedField(slug_field="version", read_only=True,
                                                                          allow_null=True)
    progress = serializers.SerializerMethodField()
    urls = serializers.SerializerMethodField()

    class Meta:
        model = Snapshot
        fields = ["version", "status", "cutoff_at", "created_at", "published_at", "previous", "purge_of", "note",
                  "archive_size", "archive_sha256", "manifest_sha256", "manifest_files", "manifest_bytes", "counts", "withdrawals_count", "withdrawn_updated_at",
                  "progress", "urls"]

    def get_progress(self, obj: Snapshot) -> dict[str, Any]:
        return snapshot_progress(obj)

    def get_urls(self, obj: Snapshot) -> dict[str, str]:
        base = f"/api/v1/snapshots/{obj.version}/"
        return {"detail": base, "download": base + "download/", "withdrawn": base + "withdrawn/",
                "manifest": base + "manifest/", "delta": base + "delta/?from=", "files": base + "files/",
                "metadata": base + "metadata/", "removals": base + "removals/", "page": f"/datasets/{obj.version}/"}


class SnapshotCreateSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")
    purge_of = serializers.CharField(required=False, allow_blank=True, default="",
                                     help_text="version of a snapshot this build purges of withdrawn people")


class ApplicationSerializer(serializers.ModelSerializer):
    agreement_version = serializers.IntegerField(source="agreement.version", read_only=True)

    class Meta:
        model = ResearcherApplication
        fields = ["id", "name", "institution", "purpose", "agreement_version", "status", "reason", "created_at",
                  "decided_at"]
        read_only_fields = fields


class ApplicationCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    institution = serializers.CharField(max_length=300)
    purpose = serializers.CharField(min_length=20, max_length=5000)
    agreement_version = serializers.IntegerField(help_text="the current data-use agreement version you accept")
    agreement_language = serializers.ChoiceField(
        choices=[code for code, _name in settings.LANGUAGES], required=False, default="en",
        help_text="the language of the agreement text you read: en (the original) or one it is translated into")
    accept_agreement = AcceptField(message="You must accept the data-use agreement.")


class ApplicationDecisionSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=["approve", "refuse"])
    reason = serializers.CharField(required=False, allow_blank=True, max_length=5000, default="")
