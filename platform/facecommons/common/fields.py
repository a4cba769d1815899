"""Serializer fields whose OpenAPI schema says exactly what the server accepts."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers


class StrictUUIDField(serializers.UUIDField):
    """A UUID given as a string. DRF's field also takes an integer (and so ``false`` and
    ``true``, which are integers to Python) as a UUID's number: the schema says string."""

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, str):
            self.fail("invalid", value=data)
        return super().to_internal_value(data)


@extend_schema_field({"type": "object", "additionalProperties": {
    "oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}})
class CategoriesField(serializers.JSONField):
    """Declared categories: category key -> value key, or a list of value keys (the upload
    parses and checks them against the taxonomy; the schema states the shape)."""


@extend_schema_field({"type": "object", "additionalProperties": {"type": "string", "maxLength": 100}})
class FreeTextField(serializers.JSONField):
    """Self-described text per category: category key -> text."""


@extend_schema_field({"type": "boolean", "enum": [True]})
class AcceptField(serializers.BooleanField):
    """A box that must be ticked (an agreement accepted): ``false`` is refused with ``message``."""

    def __init__(self, *, message: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.message = message

    def to_internal_value(self, data: Any) -> bool:
        value = super().to_internal_value(data)
        if not value:
            raise serializers.ValidationError(self.message)
        return True
