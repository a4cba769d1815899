"""A page a role may not open says which role does and links back; the queue says its size."""

from __future__ import annotations

import pytest

from tests.factories import make_contribution


@pytest.mark.django_db
def test_moderator_on_an_admin_page_is_told_who_decides_and_led_back(client, make_user):
    client.force_login(make_user(role="moderator"))
    for url in ("/moderation/escalations/", "/moderation/agreement/", "/moderation/audit/"):
        resp = client.get(url)
        html = resp.content.decode()
        assert resp.status_code == 403
        assert "Only admins open this page" in html and 'href="/moderation/"' in html, url
        assert "This page is for the moderators and admins" not in html


@pytest.mark.django_db
def test_contributor_on_the_queue_learns_how_to_become_a_moderator(client, make_user):
    client.force_login(make_user())
    resp = client.get("/moderation/", HTTP_ACCEPT_LANGUAGE="es")
    html = resp.content.decode()
    assert resp.status_code == 403
    assert "función de moderación" in html and 'href="/my/photos/"' in html


@pytest.mark.django_db
def test_review_page_shows_queue_size_and_reviewed_today(client, make_user):
    from facecommons.moderation.models import Review

    mod, owner = make_user(role="moderator"), make_user()
    waiting = [make_contribution(owner) for _ in range(3)]
    make_contribution(mod)  # the moderator's own photo is not theirs to review
    Review.objects.create(contribution=waiting[0], moderator=mod, decision="approve")
    client.force_login(mod)
    html = client.get("/moderation/").content.decode()
    assert "2 photos waiting for review · you reviewed 1 today" in html
