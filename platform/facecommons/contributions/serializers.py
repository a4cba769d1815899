"""Serializers of the contributions API: thin, output-only for contributions."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import ParseError

from facecommons.common.api import ApiError
from facecommons.common.fields import CategoriesField, FreeTextField
from facecommons.common.parsers import json_depth, json_load, max_json_depth
from facecommons.contributions.models import Contribution
from facecommons.contributions.review_requests import review_request_allowed
from facecommons.contributions.services import EDITABLE_STATUSES
from facecommons.pipeline.findings import finding_items


class RejectionReasonSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


class FindingSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # see TaxonomyValueSerializer
    message = serializers.CharField()


class ReviewRequestSerializer(serializers.Serializer):
    note = serializers.CharField()
    created_at = serializers.DateTimeField()


class ContributionSerializer(serializers.ModelSerializer):
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    free_text = serializers.JSONField(source="categories_free_text", read_only=True)
    taxonomy_version = serializers.IntegerField(source="taxonomy.version", read_only=True)
    rejection_reason = serializers.SerializerMethodField()
    images = serializers.SerializerMethodField()
    editable = serializers.SerializerMethodField()
    findings = serializers.SerializerMethodField()
    review_request = serializers.SerializerMethodField()
    can_request_review = serializers.SerializerMethodField()

    class Meta:
        model = Contribution
        fields = ["id", "status", "status_label", "categories", "free_text", "corrected_categories",
                  "taxonomy_version", "created_at", "status_changed_at", "rejection_reason", "width", "height",
                  "original_name", "images", "editable", "findings", "review_request", "can_request_review"]
        read_only_fields = fields

    @extend_schema_field(RejectionReasonSerializer(allow_null=True))
    def get_rejection_reason(self, obj: Contribution) -> dict[str, str] | None:
        if obj.status != "rejected" and not obj.rejection_code:
            return None
        return {"code": obj.rejection_code, "message": obj.rejection_message}

    @extend_schema_field(serializers.DictField(child=serializers.URLField()))
    def get_images(self, obj: Contribution) -> dict[str, str]:
        """variant -> URL of the permission-checked image endpoint, for each stored variant."""
        request = self.context.get("request")
        base = reverse("api-contribution-image", kwargs={"pk": obj.pk})
        out = {}
        for f in obj.files.all():
            url = f"{base}?variant={f.variant}"
            out[f.variant] = request.build_absolute_uri(url) if request is not None else url
        return out

    @extend_schema_field(FindingSerializer(many=True))
    def get_findings(self, obj: Contribution) -> list[dict[str, str]]:
        """What the pipeline found (codes with the sentence the contributor reads)."""
        analysis = getattr(obj, "analysis", None)
        return finding_items(analysis.findings if analysis is not None else [])

    @extend_schema_field(ReviewRequestSerializer(allow_null=True))
    def get_review_request(self, obj: Contribution) -> dict[str, Any] | None:
        rr = getattr(obj, "review_request", None)
        return None if rr is None else {"note": rr.note, "created_at": rr.created_at}

    def get_can_request_review(self, obj: Contribution) -> bool:
        return getattr(obj, "review_request", None) is None and review_request_allowed(obj)

    def get_editable(self, obj: Contribution) -> bool:
        return obj.status in EDITABLE_STATUSES


class ContributionUploadSerializer(serializers.Serializer):
    """The multipart upload (documentation and first-level shape checks)."""

    image = serializers.FileField(help_text="JPEG, PNG, WebP or HEIC; at most 25 MB and 50 megapixels, "
                                            "short side at least 128 px (UPLOAD_MIN_SHORT_SIDE).")
    categories = CategoriesField(help_text='JSON object: category key -> value key, or list of value keys '
                                                 '(e.g. {"age_range": "25_34", "ethnicity": ["black"]}).')
    free_text = FreeTextField(required=False, help_text="JSON object: category key -> self-described text "
                                                               "(for values that allow it), at most 100 characters.")


class ContributionUpdateSerializer(serializers.Serializer):
    categories = CategoriesField(required=False, help_text="Category changes (merged with the current ones).")
    free_text = FreeTextField(required=False)


# Documentation-only serializers. Their fields "label", "help_text" and "required" shadow
# attributes of DRF's Field class for the type checker only (the metaclass takes them out).
class TaxonomyValueSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]
    swatch = serializers.CharField(required=False)
    free_text = serializers.BooleanField(required=False)
    exclusive = serializers.BooleanField(required=False)


class TaxonomyCategorySerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]
    help_text = serializers.CharField()  # type: ignore[assignment]
    multiple = serializers.BooleanField()
    required = serializers.BooleanField()  # type: ignore[assignment]
    values = TaxonomyValueSerializer(many=True)


class TaxonomySerializer(serializers.Serializer):
    version = serializers.IntegerField()
    categories = TaxonomyCategorySerializer(many=True)


class ContributionPageSerializer(serializers.Serializer):
    """One page of ``GET /contributions/`` (limit/offset pagination)."""

    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = ContributionSerializer(many=True)


def parse_json_field(value: Any, name: str) -> Any:
    """Multipart sends JSON objects as strings; JSON bodies send them as objects.

    Both pass the same size and depth limits as a JSON body (common/parsers.py)."""
    if value is None:
        return value
    if isinstance(value, dict):
        parsed: Any = value
    elif isinstance(value, (bytes, bytearray, str)):
        if isinstance(value, (bytes, bytearray)):
            value = value.decode("utf-8", "replace")
        if not value.strip():
            return None
        try:
            parsed = json_load(value, what=f"'{name}'")
        except ParseError as exc:
            raise ApiError(gettext("“%(name)s” must be a JSON object.") % {"name": name}, code="invalid",
                           status_code=exc.status_code, fields={name: [str(exc.detail)]}) from exc
    else:
        parsed = None
    if isinstance(parsed, dict):
        if json_depth(parsed) > max_json_depth():
            raise ApiError(gettext("“%(name)s” is nested too deeply.") % {"name": name}, code="invalid",
                           fields={name: [gettext("Nested too deeply.")]})
        return parsed
    raise ApiError(gettext("“%(name)s” must be a JSON object.") % {"name": name}, code="invalid",
                   fields={name: [gettext("Expected a JSON object.")]})
