"""After e-mail confirmation a new contributor is led on: consent, photo guidelines, upload."""

from __future__ import annotations

import re

import pytest

from tests.factories import CHECK_RIGHT, make_contribution


@pytest.mark.django_db
def test_confirming_the_email_leads_to_consent_then_guidelines(client, mailoutbox):
    r = client.post("/accounts/signup/", {"email": "new.face@example.org", "password1": "a-long-passphrase-77",
                                         "password2": "a-long-passphrase-77"})
    assert r.status_code == 302
    link = re.search(r"https?://[^/\s]+(/accounts/confirm-email/[^\s]+/)", mailoutbox[0].body).group(1)
    r = client.post(link)
    assert r.status_code == 302 and r["Location"] == "/consent/?next=/guidelines/%3Fonboarding%3D1"
    r = client.post("/consent/", {"version": 1, "adult": "on", "agree": "on", "next": "/guidelines/?onboarding=1",
                                  **CHECK_RIGHT})
    assert r.status_code == 302 and r["Location"] == "/guidelines/?onboarding=1"
    html = client.get("/guidelines/?onboarding=1").content.decode()
    assert 'aria-current="step"' in html and 'href="/upload/"' in html
    assert html.count('class="example good"') == 4 and html.count('class="example bad"') == 4


@pytest.mark.django_db
def test_guidelines_are_translated_and_linked_from_upload_and_rejections(client, make_user):
    from facecommons.moderation.models import REJECT_MESSAGES, RejectReason

    user = make_user()
    client.force_login(user)
    html = client.get("/guidelines/", HTTP_ACCEPT_LANGUAGE="sw").content.decode()
    assert "Mwanga mzuri usoni mwako" in html or "Wewe peke yako" in html
    assert 'href="/guidelines/"' in client.get("/upload/").content.decode()
    c = make_contribution(user, status="rejected", rejection_code=RejectReason.POOR_QUALITY,
                          rejection_message=REJECT_MESSAGES[RejectReason.POOR_QUALITY])
    assert 'href="/guidelines/"' in client.get(f"/my/photos/{c.pk}/").content.decode()
    assert 'href="/guidelines/"' in client.get("/my/photos/").content.decode()


@pytest.mark.django_db
def test_returning_contributor_without_current_consent_goes_back_to_upload(client, make_user):
    user = make_user(consent=False)
    make_contribution(user, status="approved")
    client.force_login(user)
    r = client.get("/upload/")
    assert r.status_code == 302 and r["Location"] == "/consent/?next=/upload/"
