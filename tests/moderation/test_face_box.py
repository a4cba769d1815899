"""A moderator marks the face the detector missed: the box is required to approve such a
photo, validated, and the crops (112/224, framed as the pipeline frames them) come from it."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from facecommons.common.models import AuditEvent
from facecommons.common.storage import private_storage
from facecommons.contributions.review_requests import contribution_request_review
from facecommons.moderation.services import ModerationError
from facecommons.pipeline.boxcrop import landmarks_from_box
from facecommons.pipeline.services import pipeline_process
from tests.factories import make_contribution
from tests.moderation.conftest import decide
from tests.pipeline import images


def _no_face_photo(owner):
    """The coffee cup: the detector finds no face; the contributor asks for a review."""
    c = make_contribution(owner, status="received", image=images.jpeg(images.coffee()))
    assert pipeline_process(contribution_id=str(c.pk)) == "done"
    c.refresh_from_db()
    assert c.status == "awaiting_contributor"
    contribution_request_review(contribution_id=c.pk, owner=owner, note="")
    c.refresh_from_db()
    assert c.status == "awaiting_review"
    return c


def _read(key: str) -> np.ndarray:
    with private_storage().open(key, "rb") as fh:
        return np.asarray(Image.open(io.BytesIO(fh.read())).convert("RGB"))


@pytest.mark.django_db
def test_approval_needs_a_box_and_the_crops_come_from_it(mods, contributor):
    c = _no_face_photo(contributor)
    with pytest.raises(ModerationError) as exc:
        decide(mods[0], c, "approve")
    assert exc.value.code == "face_box_required" and exc.value.status == 400
    for bad in ([1, 2, 3], [0, 0, 5, 5], [c.width + 10, 0, c.width + 50, 40], ["a", 0, 10, 10]):
        with pytest.raises(ModerationError) as exc:
            decide(mods[0], c, "approve", face_box=bad)
        assert exc.value.code == "invalid_face_box", bad
    # Two moderators approve; their boxes differ a little; the median of the two is used.
    first = decide(mods[0], c, "approve", face_box=[100, 80, 300, 300])
    assert first.outcome == "pending" and first.review.face_box == [100.0, 80.0, 300.0, 300.0]
    assert not c.files.filter(variant="crop").exists()  # nothing is cut before the approval
    second = decide(mods[1], c, "approve", face_box=[110, 90, 310, 310])
    assert second.outcome == "approved"
    c.refresh_from_db()
    a = c.analysis
    assert a.detector_missed is True
    assert a.face["source"] == "moderator" and a.face["box"] == [105.0, 85.0, 305.0, 305.0]
    files = {f.variant: f for f in c.files.all()}
    assert (files["crop"].width, files["crop"].height, files["crop224"].width) == (112, 112, 224)
    # The crop is the pipeline's alignment applied to the box's landmarks, on the original.
    from ml.align import align_face

    expected = align_face(_read(files["original"].key), np.asarray(landmarks_from_box((105, 85, 305, 305))), 224)
    got = _read(files["crop224"].key)
    assert np.abs(got.astype(int) - expected.astype(int)).mean() < 4  # JPEG q95 round trip
    assert AuditEvent.objects.filter(object_id=str(c.pk), action="face_box_marked").count() == 1


@pytest.mark.django_db
def test_a_box_is_not_needed_nor_used_where_the_detector_found_the_face(mods, contributor):
    c = make_contribution(contributor, status="received", image=images.jpeg(images.astronaut(31)))
    pipeline_process(contribution_id=str(c.pk))
    c.refresh_from_db()
    assert c.status == "awaiting_review"
    crop_sha = c.files.get(variant="crop").sha256
    decide(mods[0], c, "approve", face_box=[0, 0, 50, 50])
    assert decide(mods[1], c, "approve").outcome == "approved"
    c.refresh_from_db()
    assert c.analysis.detector_missed is False and c.analysis.face["source"] == "original"
    assert c.files.get(variant="crop").sha256 == crop_sha


@pytest.mark.django_db
def test_a_box_comes_only_with_an_approval(mods, contributor):
    c = _no_face_photo(contributor)
    with pytest.raises(ModerationError) as exc:
        decide(mods[0], c, "reject", reason_code="not_one_clear_face", face_box=[10, 10, 100, 100])
    assert exc.value.code == "invalid_face_box"


def test_landmarks_from_box_frame_the_face_like_the_detector():
    from ml.align import ARCFACE_112, alignment_matrix

    # A square box: the five points land near the ArcFace template (the crop's geometry).
    pts = np.asarray(landmarks_from_box((0, 0, 200, 200)))
    m = alignment_matrix(pts, 112)
    mapped = pts @ m[:, :2].T + m[:, 2]
    assert np.abs(mapped - ARCFACE_112).max() < 6
