"""The contributor asks a person to check a photo the pipeline did not send to review:
web (one click, optional note) and API, a second request refused, another person's photo 404."""

from __future__ import annotations

import pytest

from facecommons.common.models import AuditEvent
from facecommons.contributions.models import ReviewRequest
from facecommons.pipeline.models import PhotoAnalysis
from tests.factories import make_contribution


def waiting(owner, *, route: str = "await_contributor", findings: list[str] | None = None, status: str = "awaiting_contributor"):
    """A photo as the pipeline leaves it when it found no face (or rejected it)."""
    c = make_contribution(owner, status=status, **({"rejection_code": "multiple_faces"} if status == "rejected" else {}))
    PhotoAnalysis.objects.create(contribution=c, verdict_code=route, findings=findings or ["no_face"],
                                 face={"count": 0, "source": "original"})
    return c


@pytest.mark.django_db
def test_api_request_puts_the_photo_in_the_queue_with_the_note(make_user, client_for):
    owner = make_user()
    c = waiting(owner)
    api = client_for(owner)
    before = api.get(f"/api/v1/contributions/{c.pk}/").json()
    assert before["status"] == "awaiting_contributor" and before["can_request_review"] is True
    assert [f["code"] for f in before["findings"]] == ["no_face"] and before["findings"][0]["message"]
    resp = api.post(f"/api/v1/contributions/{c.pk}/review-request/", {"note": "It is me, in a dark room."},
                    format="json")
    assert resp.status_code == 200, resp.content
    body = resp.json()
    assert body["status"] == "awaiting_review" and body["can_request_review"] is False
    assert body["review_request"]["note"] == "It is me, in a dark room."
    rr = ReviewRequest.objects.get(contribution=c)
    assert rr.route == "await_contributor" and rr.findings == ["no_face"]
    event = AuditEvent.objects.filter(object_id=str(c.pk), action="review_requested").get()
    assert event.after["status"] == "awaiting_review" and event.note == "It is me, in a dark room."

    # A second request is refused with a clear message, and changes nothing.
    again = api.post(f"/api/v1/contributions/{c.pk}/review-request/", {}, format="json")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "review_already_requested"
    assert "already asked" in again.json()["error"]["message"]
    assert ReviewRequest.objects.filter(contribution=c).count() == 1


@pytest.mark.django_db
def test_api_request_without_note_and_after_an_automatic_rejection(make_user, client_for):
    owner = make_user()
    c = waiting(owner, route="reject", findings=["multiple_faces"], status="rejected")
    resp = client_for(owner).post(f"/api/v1/contributions/{c.pk}/review-request/")
    assert resp.status_code == 200, resp.content
    c.refresh_from_db()
    assert c.status == "awaiting_review" and not c.rejection_code
    assert ReviewRequest.objects.get(contribution=c).note == ""


@pytest.mark.django_db
def test_another_persons_photo_is_404_on_the_api_and_the_web(make_user, client_for, client):
    owner, other = make_user(), make_user()
    c = waiting(owner)
    resp = client_for(other).post(f"/api/v1/contributions/{c.pk}/review-request/", {"note": "x"}, format="json")
    assert resp.status_code == 404
    client.force_login(other)
    assert client.post(f"/my/photos/{c.pk}/review-request/", {"note": "x"}).status_code == 404
    c.refresh_from_db()
    assert c.status == "awaiting_contributor" and not ReviewRequest.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("status", ["awaiting_review", "approved", "processing"])
def test_a_photo_not_waiting_for_its_contributor_is_refused(make_user, client_for, status):
    owner = make_user()
    c = make_contribution(owner, status=status)
    resp = client_for(owner).post(f"/api/v1/contributions/{c.pk}/review-request/", {}, format="json")
    assert resp.status_code == 409 and resp.json()["error"]["code"] == "review_not_needed"


@pytest.mark.django_db
def test_a_moderators_rejection_is_not_reopened_this_way(make_user, client_for):
    from facecommons.moderation.models import Review

    owner, mod = make_user(), make_user(role="moderator")
    c = waiting(owner, route="review", findings=["soft"], status="rejected")
    Review.objects.create(contribution=c, moderator=mod, decision="reject", reason_code="poor_quality")
    resp = client_for(owner).post(f"/api/v1/contributions/{c.pk}/review-request/", {}, format="json")
    assert resp.status_code == 409


@pytest.mark.django_db
def test_web_one_click_with_a_note_then_a_second_click_is_refused(make_user, client):
    owner = make_user()
    c = waiting(owner)
    client.force_login(owner)
    page = client.get("/my/photos/").content.decode()
    assert f'action="/my/photos/{c.pk}/review-request/"' in page
    assert "We could not find a face" in page  # the finding's sentence, at once
    resp = client.post(f"/my/photos/{c.pk}/review-request/", {"note": "Please look again."}, follow=True)
    assert resp.status_code == 200
    c.refresh_from_db()
    assert c.status == "awaiting_review"
    assert ReviewRequest.objects.get(contribution=c).note == "Please look again."
    assert "A moderator will look at this photo" in resp.content.decode()
    again = client.post(f"/my/photos/{c.pk}/review-request/", {}, follow=True)
    assert "already asked" in again.content.decode()
    assert ReviewRequest.objects.filter(contribution=c).count() == 1


@pytest.mark.django_db
def test_note_too_long_is_refused_and_loses_nothing(make_user, client_for):
    owner = make_user()
    c = waiting(owner)
    resp = client_for(owner).post(f"/api/v1/contributions/{c.pk}/review-request/", {"note": "x" * 1001},
                                  format="json")
    assert resp.status_code == 400 and "1000" in resp.json()["error"]["message"]
    c.refresh_from_db()
    assert c.status == "awaiting_contributor"


@pytest.mark.django_db
def test_moderators_see_the_request_as_such_with_the_note(make_user, client_for):
    owner, mod = make_user(), make_user(role="moderator")
    c = waiting(owner)
    client_for(owner).post(f"/api/v1/contributions/{c.pk}/review-request/", {"note": "My face is there."},
                           format="json")
    item = client_for(mod).post("/api/v1/moderation/next/", {}, format="json").json()
    assert item["id"] == str(c.pk)
    assert item["review_request"]["note"] == "My face is there."
    assert item["review_request"]["route"] == "await_contributor"
    assert [f["code"] for f in item["findings"]] == ["no_face"] and item["needs_face_box"] is True


@pytest.mark.django_db
def test_every_finding_has_a_sentence_and_a_label():
    from facecommons.pipeline.analysis import FINDINGS
    from facecommons.pipeline.findings import FINDING_LABELS, FINDING_MESSAGES

    assert set(FINDING_MESSAGES) == set(FINDINGS) == set(FINDING_LABELS)
    assert all(str(FINDING_MESSAGES[f]) and str(FINDING_LABELS[f]) for f in FINDINGS)
