"""Writing the audit log: the one function every app calls."""

from __future__ import annotations

from typing import Any

from django.db import models

from facecommons.common.models import AuditEvent


def audit_record(*, actor: Any | None, action: str, obj: models.Model | None = None,
                 object_type: str = "", object_id: str = "", before: dict[str, Any] | None = None,
                 after: dict[str, Any] | None = None, note: str = "") -> AuditEvent:
    """Append one event. ``actor`` is a user or None (the system)."""
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
    actor_obj = actor if getattr(actor, "is_authenticated", False) else None
    label = ""
    if actor_obj is not None:
        label = getattr(actor_obj, "pseudonym", "") or f"user:{actor_obj.pk}"
    return AuditEvent.objects.create(
        actor=actor_obj, actor_label=label, action=action, object_type=object_type,
        object_id=str(object_id), before=before or {}, after=after or {}, note=note,
    )
