"""The face a moderator marks when the detector found none: checked with the approval,
turned into crops when the photo is approved (``pipeline.manual``)."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from django.utils.translation import gettext as _

from facecommons.contributions.models import Contribution
from facecommons.moderation.errors import ModerationError
from facecommons.moderation.models import Decision, Review
from facecommons.pipeline.boxcrop import MIN_BOX_PX, box_validate
from facecommons.pipeline.manual import analysis_needs_face_box, pipeline_face_from_box

logger = logging.getLogger(__name__)


def face_box_for_decision(c: Contribution, decision: str, face_box: list[float] | None) -> list[float]:
    """The validated face box of an approval, [] when none is needed (the detector's face
    stands; a box sent anyway is not used). Raises ``ModerationError`` (400) when a needed box
    is missing or invalid. Precondition: ``c`` locked."""
    if not analysis_needs_face_box(getattr(c, "analysis", None)):
        return []
    if not face_box:
        raise ModerationError("face_box_required", _("The detector found no face in this photo: mark the face with "
                                                     "a box before approving it."), status=400)
    try:
        return [round(v, 2) for v in box_validate(face_box, c.width, c.height)]
    except ValueError as exc:
        raise ModerationError("invalid_face_box", _("The face box must be four numbers (x1, y1, x2, y2) on the "
                                                    "photo, at least %(n)d px on each side.") % {"n": MIN_BOX_PX}, status=400) from exc


def face_mark_on_approval(c: Contribution, actor: Any | None = None) -> None:
    """Cut the crops from the approvals' face boxes (their median, coordinate by coordinate:
    one careless box among several does not move it) where the detector found no face.
    Precondition: ``c`` locked, in the transaction that approves it."""
    if not analysis_needs_face_box(getattr(c, "analysis", None)):
        return
    boxes = [b for b in Review.objects.filter(contribution=c, decision__in=[Decision.APPROVE, Decision.CORRECT])
             .values_list("face_box", flat=True) if b]
    if not boxes:
        logger.warning("contribution %s approved without a face box; it has no crops", c.pk)
        return
    x1, y1, x2, y2 = (float(v) for v in np.median(np.asarray(boxes, dtype=np.float64), axis=0))
    pipeline_face_from_box(contribution=c, box=(x1, y1, x2, y2), actor=actor)
