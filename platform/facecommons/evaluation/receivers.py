"""Reactions to other apps' events: evaluate a snapshot when it is published; forget the cached
results (embeddings are biometric templates) of a deleted contribution. And this app's own
``post_delete``: delete the files of deleted external images."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from facecommons.common.storage import storage_delete
from facecommons.evaluation.models import ExternalImage, ModelResult
from facecommons.evaluation.tasks import evaluation_start


def on_snapshot_published(*, snapshot_id: int, version: str) -> None:
    # After the publication commits: the run reads the published entries.
    evaluation_start.delay("snapshot", snapshot_version=version, trigger="snapshot")


def on_contribution_removed(*, contribution: Any, actor: Any) -> None:
    shas = [contribution.sha256, *contribution.files.values_list("sha256", flat=True)]
    ModelResult.objects.filter(content_sha256__in=shas).delete()


def on_external_image_deleted(sender: Any, instance: ExternalImage, **kwargs: Any) -> None:
    key, sha = instance.key, instance.sha256
    if not ExternalImage.objects.filter(sha256=sha).exclude(pk=instance.pk).exists():
        ModelResult.objects.filter(content_sha256=sha).delete()
    transaction.on_commit(lambda: storage_delete(key))
