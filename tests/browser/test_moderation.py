"""Two moderators in headless Chromium, keyboard only; the contributor sees the outcomes."""

from __future__ import annotations

import pytest

from facecommons.contributions.models import Contribution
from tests.factories import make_contribution

pytestmark = pytest.mark.browser


def _wait_decisions(page, n: int) -> None:
    page.wait_for_function(f"document.getElementById('review').dataset.decisions === '{n}'")


def _current(page) -> str:
    page.wait_for_function("document.getElementById('review').dataset.state === 'ready'")
    return page.get_attribute("#review", "data-current")


def test_keyboard_review_with_consensus(browser_page, live_server, login, make_user, unique_face_jpeg):
    page = browser_page
    owner = make_user()
    first = make_contribution(owner, image=unique_face_jpeg(1))
    second = make_contribution(owner, image=unique_face_jpeg(2))
    mod1, mod2 = make_user(role="moderator"), make_user(role="moderator")

    login(page, live_server, mod1, next_url="/moderation/")
    page.goto(f"{live_server.url}/moderation/")
    assert _current(page) == str(first.pk)
    page.wait_for_function("document.getElementById('img-original').complete && "
                           "document.getElementById('img-original').naturalWidth > 0")
    # The shortcut overlay opens and closes with ?.
    page.keyboard.press("?")
    assert page.is_visible("#help-panel")
    page.keyboard.press("?")
    assert not page.is_visible("#help-panel")
    page.keyboard.press("a")
    # The next photo (already leased and preloaded) is on screen at once.
    assert page.get_attribute("#review", "data-current") == str(second.pk)
    _wait_decisions(page, 1)
    page.keyboard.press("r")
    assert page.is_visible("#reject-panel")
    page.keyboard.press("4")  # poor quality
    _wait_decisions(page, 2)
    page.wait_for_function("document.getElementById('review').dataset.state === 'empty'")
    assert Contribution.objects.get(pk=first.pk).status == "awaiting_review"  # one approval of two

    page.context.clear_cookies()
    login(page, live_server, mod2, next_url="/moderation/")
    page.goto(f"{live_server.url}/moderation/")
    assert _current(page) == str(first.pk)
    page.keyboard.press("a")
    _wait_decisions(page, 1)
    assert page.get_attribute("#review", "data-current") == str(second.pk)
    page.keyboard.press("r")
    page.keyboard.press("4")
    _wait_decisions(page, 2)
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == "approved"
    assert second.status == "rejected" and second.rejection_code == "poor_quality"
    assert not page.js_errors, page.js_errors

    page.context.clear_cookies()
    login(page, live_server, owner, next_url="/my/photos/")
    page.goto(f"{live_server.url}/my/photos/")
    card1 = page.locator(f".photo-card[data-id='{first.pk}']")
    card2 = page.locator(f".photo-card[data-id='{second.pk}']")
    assert "Approved" in card1.inner_text()
    text2 = card2.inner_text()
    assert "Rejected" in text2 and "quality is too low" in text2
