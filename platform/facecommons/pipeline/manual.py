"""A face a person marked: crops from a moderator's box when the detector found no face.

These photos are the dataset's hard cases: real faces the reference detector misses. Their
analysis row says so (``detector_missed``), and snapshots carry it per photo.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from facecommons.common.audit import audit_record
from facecommons.common.storage import private_storage, storage_save_bytes
from facecommons.contributions.models import Contribution, ContributionFile, FileVariant
from facecommons.pipeline.boxcrop import crops_from_box
from facecommons.pipeline.models import PhotoAnalysis


def analysis_needs_face_box(analysis: PhotoAnalysis | None) -> bool:
    """True when the pipeline judged the photo and no face was validated (by the detector or
    by a person). A photo the pipeline never judged (imported, or older than the pipeline)
    has nothing to say about its face either way."""
    return analysis is not None and not (isinstance(analysis.face, dict) and analysis.face.get("box"))


def pipeline_face_from_box(*, contribution: Contribution, box: tuple[float, float, float, float],
                           actor: Any | None = None) -> PhotoAnalysis:
    """Make the 112/224 crops from ``box`` (pixels of the stored original, already validated),
    record the face as marked by a person and flag the photo ``detector_missed``.

    Precondition: called inside the transaction that approves the photo, holding its row.
    The crops are cut from the enhanced copy where the pipeline made one (as its own are)."""
    files = {f.variant: f for f in contribution.files.all()}
    source = files.get(FileVariant.ENHANCED) or files[FileVariant.ORIGINAL]
    with private_storage().open(source.key, "rb") as fh:
        data = fh.read()
    face, crops = crops_from_box(data, box)
    for crop in crops:
        sha = crop.sha256
        key = storage_save_bytes(f"derived/{crop.variant}/{sha[:2]}/{sha}.jpg", crop.data)
        ContributionFile.objects.update_or_create(
            contribution=contribution, variant=crop.variant,
            defaults={"key": key, "sha256": sha, "content_type": "image/jpeg", "width": crop.width,
                      "height": crop.height, "byte_size": len(crop.data)})
    analysis, _ = PhotoAnalysis.objects.get_or_create(contribution=contribution)
    analysis.face = {**face, "marked_from": source.variant}
    analysis.detector_missed = True
    with transaction.atomic():
        analysis.save(update_fields=["face", "detector_missed"])
        audit_record(actor=actor, action="face_box_marked", obj=contribution, after={"box": face["box"],
                                                                                    "from": source.variant})
    return analysis
