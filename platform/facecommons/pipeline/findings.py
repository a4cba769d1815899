"""What people read about the pipeline's findings: the contributor's sentence and the
moderator's flag label, one per finding code of ``analysis.FINDINGS`` (translatable).

``analysis`` stays free of Django (the bench times it); the words live here.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from facecommons.pipeline.analysis import (
    DARK,
    FACE_CUT_OFF,
    FACE_SMALL,
    LIGHTING_MISMATCH,
    MULTIPLE_FACES,
    NO_FACE,
    SOFT,
)

#: The sentence the contributor reads, at once on the upload page and in My photos.
FINDING_MESSAGES: dict[str, Any] = {
    NO_FACE: _("We could not find a face in this photo, even after brightening it. You can ask a person "
               "to check it, take a new photo, or delete it."),
    MULTIPLE_FACES: _("We found more than one face in this photo. Each photo should show only you; you can "
                      "ask a person to check it, or replace it."),
    FACE_SMALL: _("Your face is small in this photo. A moderator will look at it; a closer photo would "
                  "be even more useful."),
    FACE_CUT_OFF: _("Part of your face seems to be outside the photo. A moderator will look at it; you "
                    "may replace it with a photo that shows your whole face."),
    SOFT: _("Your face looks a little soft (out of focus) in this photo. A moderator will look at it; "
            "you may replace it with a sharper one."),
    DARK: _("This photo is dark. We brightened it for checking; a moderator will look at it."),
    LIGHTING_MISMATCH: _("The lighting you chose for this photo differs from the light we measured. "
                         "A moderator will look at it; you can correct the lighting in the photo's details."),
}

#: The short label a moderator sees on the flag.
FINDING_LABELS: dict[str, Any] = {
    NO_FACE: _("No face found by the detector"),
    MULTIPLE_FACES: _("Several faces"),
    FACE_SMALL: _("Face small"),
    FACE_CUT_OFF: _("Face cut off"),
    SOFT: _("Soft (out of focus)"),
    DARK: _("Dark"),
    LIGHTING_MISMATCH: _("Declared lighting differs from measured light"),
}

#: Lighting values of the taxonomy that declare the photo's light as low.
LOW_LIGHT_VALUES = frozenset({"low_light", "night"})
#: Values that declare it as not low.
LIT_VALUES = frozenset({"daylight_outdoors", "indoor"})


def declared_low_light(categories: dict[str, Any] | None) -> bool | None:
    """Whether the declared lighting is low (None when no lighting was declared)."""
    value = (categories or {}).get("lighting")
    if isinstance(value, list):
        value = value[0] if len(value) == 1 else None
    if value in LOW_LIGHT_VALUES:
        return True
    if value in LIT_VALUES:
        return False
    return None


def finding_items(codes: list[str] | None) -> list[dict[str, str]]:
    """``[{"code", "label", "message"}]`` for display; unknown codes are shown by code."""
    return [{"code": c, "label": str(FINDING_LABELS.get(c, c)), "message": str(FINDING_MESSAGES.get(c, ""))}
            for c in codes or []]
