"""The comprehension check before a person's first consent: three questions in their
language; a wrong answer shows the passage again and lets them answer again, never blocking
for good; the result is recorded (admin, data export); the API asks it without imposing it."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from facecommons.accounts.comprehension import QUESTIONS
from facecommons.accounts.models import ComprehensionCheck, ConsentAcceptance, ConsentVersion
from facecommons.accounts.services import account_export_data
from tests.factories import CHECK_RIGHT

pytestmark = pytest.mark.django_db

ACCEPT = {"version": 1, "adult": "on", "agree": "on", "next": "/upload/"}
V1_DOWNLOAD_PASSAGE = "included in versioned dataset snapshots released to approved researchers"


def test_wrong_answer_shows_the_passage_then_the_right_one_is_accepted(client, make_user):
    user = make_user(consent=False)
    client.force_login(user)
    html = client.get("/consent/").content.decode()
    assert html.count('class="question') == 3 and 'name="check-withdraw"' in html
    wrong = {**CHECK_RIGHT, "check-download": "anyone"}
    r = client.post("/consent/", {**ACCEPT, **wrong})
    assert r.status_code == 400
    html = r.content.decode()
    assert not ConsentAcceptance.objects.filter(user=user).exists()
    # The passage that answers the question, from the consent text, under that question only.
    passage = html.split('id="passage-download"')[1].split("</div>")[0]
    assert V1_DOWNLOAD_PASSAGE in passage
    assert 'id="passage-collected"' not in html and 'id="passage-withdraw"' not in html
    # The right answers stay chosen; the wrong one is cleared to be chosen again.
    assert 'value="photos" required checked' in html and 'value="anyone" required checked' not in html
    check = ComprehensionCheck.objects.get(user=user)
    assert (check.attempts, check.wrong, check.passed_at) == (1, {"download": 1}, None)
    r = client.post("/consent/", {**ACCEPT, **CHECK_RIGHT})
    assert r.status_code == 302 and r["Location"] == "/upload/"
    assert ConsentAcceptance.objects.filter(user=user, version__version=1).exists()
    check.refresh_from_db()
    assert check.attempts == 2 and check.passed_at is not None
    exported = account_export_data(user=user)["comprehension_check"]
    assert exported["attempts"] == 2 and exported["wrong_answers_per_question"] == {"download": 1}
    assert exported["passed_at"] is not None and exported["language"] == "en"


def test_it_never_blocks_for_good_and_is_asked_only_before_the_first_consent(client, make_user):
    user = make_user(consent=False)
    client.force_login(user)
    for _ in range(4):  # unanswered counts as wrong, as often as it happens
        assert client.post("/consent/", ACCEPT).status_code == 400
    r = client.post("/consent/", {**ACCEPT, **CHECK_RIGHT})
    assert r.status_code == 302
    assert ComprehensionCheck.objects.get(user=user).wrong == {"collected": 4, "download": 4, "withdraw": 4}
    # A new consent version is accepted again without the questions.
    ConsentVersion.objects.create(version=2, text="Version two.", published_at=timezone.now())
    html = client.get("/consent/").content.decode()
    assert 'id="comprehension-check"' not in html
    assert client.post("/consent/", {**ACCEPT, "version": 2}).status_code == 302
    # Nor for people who consented before the check existed.
    old = make_user()
    client.force_login(old)
    ConsentVersion.objects.create(version=3, text="Version three.", published_at=timezone.now())
    assert 'id="comprehension-check"' not in client.get("/consent/").content.decode()


def test_questions_and_passage_in_the_readers_language(client, make_user):
    user = make_user(consent=False)
    client.force_login(user)
    with translation.override("ar"):
        question = str(QUESTIONS[2].text)
        choice = str(QUESTIONS[2].choices[0][1])
    assert question != "How can you withdraw?"
    html = client.get("/consent/", headers={"accept-language": "ar"}).content.decode()
    assert question in html and choice in html and 'name="language" value="ar"' in html
    r = client.post("/consent/", {**ACCEPT, **CHECK_RIGHT, "check-withdraw": "never", "language": "ar"},
                    headers={"accept-language": "ar"})
    passage = r.content.decode().split('id="passage-withdraw"')[1].split("</div>")[0]
    assert "يمكنك الانسحاب في أي وقت" in passage and 'lang="ar"' in passage
    r = client.post("/consent/", {**ACCEPT, **CHECK_RIGHT, "language": "ar"}, headers={"accept-language": "ar"})
    assert r.status_code == 302
    assert ConsentAcceptance.objects.get(user=user).language == "ar"
    assert ComprehensionCheck.objects.get(user=user).language == "ar"


def test_api_offers_the_check_and_stays_backwards_compatible(make_user, client_for):
    api = client_for(make_user(consent=False))
    body = api.get("/api/v1/consent/", headers={"accept-language": "fr"}).json()
    assert body["comprehension_check"]["required"] is True
    assert [q["key"] for q in body["comprehension_check"]["questions"]] == ["collected", "download", "withdraw"]
    assert body["comprehension_check"]["questions"][0]["question"] != "What does Face Commons collect?"
    answers = {q.key: q.correct for q in QUESTIONS}
    r = api.post("/api/v1/consent/", {"version": 1, "adult": True, "answers": {**answers, "collected": "contacts"}},
                 format="json")
    assert r.status_code == 400
    error = r.json()["error"]
    assert error["code"] == "comprehension_wrong" and list(error["fields"]) == ["collected"]
    assert error["fields"]["collected"][0].startswith("Face Commons collects photos of faces")
    r = api.post("/api/v1/consent/", {"version": 1, "adult": True, "answers": answers}, format="json")
    assert r.status_code == 201
    assert api.get("/api/v1/consent/").json()["comprehension_check"]["required"] is False
    # A client written before the check: accepted, and recorded with no check.
    user = make_user(consent=False)
    r = client_for(user).post("/api/v1/consent/", {"version": 1, "adult": True}, format="json")
    assert r.status_code == 201 and not ComprehensionCheck.objects.filter(user=user).exists()


def test_admin_shows_the_check(client, make_user):
    user = make_user(consent=False)
    client.force_login(user)
    client.post("/consent/", {**ACCEPT, **CHECK_RIGHT, "check-withdraw": "letter"})
    client.force_login(make_user(role="admin"))
    html = client.get(reverse("admin:accounts_comprehensioncheck_changelist")).content.decode()
    assert user.email in html
    check = ComprehensionCheck.objects.get(user=user)
    assert client.get(reverse("admin:accounts_comprehensioncheck_change", args=[check.pk])).status_code == 200
    html = client.get(reverse("admin:accounts_user_change", args=[user.pk])).content.decode()
    assert "Comprehension check" in html and "&quot;withdraw&quot;: 1" in html
    assert client.post(reverse("admin:accounts_comprehensioncheck_delete", args=[check.pk]),
                       {"post": "yes"}).status_code == 403
