"""Reactions to other apps: evaluate a snapshot when it is published; forget the cached
results (embeddings are biometric templates) of a deleted contribution; delete the files of
deleted external images."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from facecommons.common.storage import storage_delete


def on_snapshot_saved(sender: Any, instance: Any, created: bool, update_fields: Any = None, **kwargs: Any) -> None:
    if getattr(instance, "status", "") != "published":
        return
    if update_fields is not None and "status" not in update_fields:
        return  # a later edit of a published snapshot (withdrawal counts): not a publication
    from facecommons.evaluation.tasks import evaluation_start

    version = instance.version
    transaction.on_commit(lambda: evaluation_start.delay("snapshot", snapshot_version=version, trigger="snapshot"))


def on_contribution_removed(sender: Any, contribution: Any, **kwargs: Any) -> None:
    from facecommons.evaluation.models import ModelResult

    shas = [contribution.sha256, *contribution.files.values_list("sha256", flat=True)]
    ModelResult.objects.filter(content_sha256__in=shas).delete()


def on_external_image_deleted(sender: Any, instance: Any, **kwargs: Any) -> None:
    from facecommons.evaluation.models import ExternalImage, ModelResult

    key, sha = instance.key, instance.sha256
    if not ExternalImage.objects.filter(sha256=sha).exclude(pk=instance.pk).exists():
        ModelResult.objects.filter(content_sha256=sha).delete()
    transaction.on_commit(lambda: storage_delete(key))
