"""As a new user would: uploads through the API, the queue, two approvals, flags, the audit trail."""

from __future__ import annotations

import io
import json

import pytest
from PIL import Image

from facecommons.common.models import AuditEvent
from facecommons.contributions.models import Contribution
from facecommons.contributions.services import contribution_transition
from facecommons.moderation.models import ContributionFlag
from tests.factories import DEFAULT_CATEGORIES, jpeg_bytes

pytestmark = pytest.mark.django_db


def _upload(client, data: bytes) -> str:
    f = io.BytesIO(data)
    f.name = "me.jpg"
    r = client.post("/api/v1/contributions/", {"image": f, "categories": json.dumps(DEFAULT_CATEGORIES)},
                    format="multipart")
    assert r.status_code == 201, r.content
    return r.json()["id"]


def _to_queue(cid: str, capture) -> None:
    """What the pipeline does when a photo passes its checks (abuse checks run eagerly)."""
    from config.celery_app import app

    c = Contribution.objects.get(pk=cid)
    app.conf.task_always_eager = True
    try:
        with capture(execute=True):
            contribution_transition(contribution=c, to="processing", action="pipeline_started")
            contribution_transition(contribution=c, to="awaiting_review", action="pipeline_passed")
    finally:
        app.conf.task_always_eager = False


def test_resized_reupload_flagged_and_two_approvals(make_user, client_for, astronaut_image,
                                                    django_capture_on_commit_callbacks):
    alice, bob = make_user(), make_user()
    m1, m2 = make_user(role="moderator"), make_user(role="moderator")
    buf = io.BytesIO()
    astronaut_image.save(buf, "JPEG", quality=92)
    original = _upload(client_for(alice), buf.getvalue())
    buf = io.BytesIO()
    astronaut_image.resize((430, 430), Image.BICUBIC).save(buf, "JPEG", quality=85)
    copy = _upload(client_for(bob), buf.getvalue())
    _to_queue(original, django_capture_on_commit_callbacks)
    _to_queue(copy, django_capture_on_commit_callbacks)

    flag = ContributionFlag.objects.get(contribution_id=copy, kind="near_duplicate")
    assert str(flag.related_contribution_id) == original and flag.detail["same_account"] is False

    # A moderator cannot review their own upload.
    own = _upload(client_for(m1), jpeg_bytes(seed=5))
    _to_queue(own, django_capture_on_commit_callbacks)
    r = client_for(m1).post(f"/api/v1/moderation/{own}/decision/", {"decision": "approve"}, format="json")
    assert r.status_code == 403

    for m in (m1, m2):
        api = client_for(m)
        got = api.post("/api/v1/moderation/next/", {}, format="json").json()
        assert got["id"] == original
        assert api.post(f"/api/v1/moderation/{original}/decision/", {"decision": "approve"},
                        format="json").status_code == 200
    assert Contribution.objects.get(pk=original).status == "approved"
    # The evidence of the copy shows the flag with the photo it points to.
    ev = client_for(m1).post("/api/v1/moderation/next/", {}, format="json").json()
    assert ev["id"] == copy and ev["flags"][0]["related"]["id"] == original
    steps = list(AuditEvent.objects.filter(object_id=original).order_by("created_at", "id")
                 .values_list("action", flat=True))
    assert [s for s in steps if not s.startswith("rewards")] == [
        "uploaded", "pipeline_started", "pipeline_passed", "moderation_approve", "moderation_approve",
        "moderation_approved"], steps
