"""Two moderators in headless Chromium, keyboard only; the contributor sees the outcomes."""

from __future__ import annotations

import pytest

from facecommons.contributions.models import Contribution
from facecommons.moderation.models import ContributionFlag
from facecommons.pipeline.models import PhotoAnalysis
from tests.factories import make_contribution

pytestmark = pytest.mark.browser


def _wait_decisions(page, n: int) -> None:
    page.wait_for_function(f"() => document.getElementById('review').dataset.decisions === '{n}'")


def _current(page) -> str:
    page.wait_for_function("() => document.getElementById('review').dataset.state === 'ready'")
    return page.get_attribute("#review", "data-current")


def test_keyboard_review_with_consensus(browser_page, live_server, login, make_user, unique_face_jpeg):
    page = browser_page
    owner = make_user()
    first = make_contribution(owner, image=unique_face_jpeg(1))
    second = make_contribution(owner, image=unique_face_jpeg(2))
    mod1, mod2 = make_user(role="moderator"), make_user(role="moderator")
    face = {"box": [179, 83, 267, 171], "score": 0.99,
            "landmarks": [[203, 115], [243, 115], [224, 135], [207, 152], [240, 152]]}
    PhotoAnalysis.objects.create(contribution=first, face=face, detections_original=[face],
                                 lowlight={"is_low_light": False, "mean": 0.45})
    ContributionFlag.objects.create(contribution=first, kind="near_duplicate", related_contribution=second,
                                    score=3, detail={"hamming": 3, "same_account": True})

    login(page, live_server, mod1, next_url="/moderation/")
    page.goto(f"{live_server.url}/moderation/")
    assert _current(page) == str(first.pk)
    page.wait_for_function("() => document.getElementById('img-original').complete && "
                           "document.getElementById('img-original').naturalWidth > 0")
    # The detector's box and five landmarks over the photo; the flag with its photo.
    assert page.locator("#overlay-original rect").count() == 1
    assert page.locator("#overlay-original circle").count() == 5
    assert "3 small differences" in page.inner_text("#ev-flags")
    assert page.locator("#ev-flags img").count() == 1
    # The shortcut overlay opens and closes with ?.
    page.keyboard.press("?")
    assert page.is_visible("#help-panel")
    page.keyboard.press("?")
    assert not page.is_visible("#help-panel")
    # Both photos are leased and buffered before the first decision.
    page.wait_for_function("() => document.getElementById('review').dataset.buffered === '2'")
    page.keyboard.press("a")
    # The next photo (already leased and preloaded) is on screen at once.
    assert page.get_attribute("#review", "data-current") == str(second.pk)
    _wait_decisions(page, 1)
    page.keyboard.press("r")
    assert page.is_visible("#reject-panel")
    page.keyboard.press("4")  # poor quality
    _wait_decisions(page, 2)
    page.wait_for_function("() => document.getElementById('review').dataset.state === 'empty'")
    # The empty queue shows only its message: no leftover photo, panels or action bar.
    assert page.is_visible("#review-empty")
    assert not page.is_visible("#review-item") and not page.is_visible("#review-actions")
    assert Contribution.objects.get(pk=first.pk).status == "awaiting_review"  # one approval of two

    page.context.clear_cookies()
    login(page, live_server, mod2, next_url="/moderation/")
    page.goto(f"{live_server.url}/moderation/")
    assert _current(page) == str(first.pk)
    page.wait_for_function("() => document.getElementById('review').dataset.buffered === '2'")
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


def test_review_screen_fits_a_tablet(browser, django_db_serialized_rollback, transactional_db, live_server, login,
                                     make_user, unique_face_jpeg):
    owner = make_user()
    make_contribution(owner, image=unique_face_jpeg(3))
    mod = make_user(role="moderator")
    context = browser.new_context(viewport={"width": 768, "height": 1024}, has_touch=True)
    try:
        page = context.new_page()
        login(page, live_server, mod, next_url="/moderation/")
        page.goto(f"{live_server.url}/moderation/")
        _current(page)
        page.wait_for_function("() => document.getElementById('img-original').naturalWidth > 0")
        img = page.locator("#img-original").bounding_box()
        assert img["x"] >= 0 and img["x"] + img["width"] <= 768
        assert page.evaluate("document.documentElement.scrollWidth") <= 768
        # The actions are reachable by touch too.
        page.click("#review-actions button[data-action=approve]")
        _wait_decisions(page, 1)
    finally:
        context.close()


def test_fast_decisions_never_show_a_decided_photo_again(browser_page, live_server, login, make_user,
                                                         unique_face_jpeg):
    """A moderator who decides before the buffer has filled races the next lease against the
    decision in flight; the screen must still show each photo once and then the empty queue."""
    page = browser_page
    owner = make_user()
    ids = {str(make_contribution(owner, image=unique_face_jpeg(10 + i)).pk) for i in range(4)}
    mod = make_user(role="moderator")
    login(page, live_server, mod, next_url="/moderation/")
    page.goto(f"{live_server.url}/moderation/")
    shown: list[str] = []
    # Generous waits: on SQLite every write waits for the one write lock (busy timeout 30 s).
    for _ in range(len(ids) + 2):
        page.wait_for_function("() => ['ready', 'empty'].includes(document.getElementById('review').dataset.state)",
                               timeout=45_000)
        if page.get_attribute("#review", "data-state") == "empty":
            break
        current = page.get_attribute("#review", "data-current")
        shown.append(current)
        page.keyboard.press("a")  # at once, without waiting for the buffer or the decision
        page.wait_for_function(f"() => document.getElementById('review').dataset.current !== '{current}'")
    page.wait_for_function(f"() => document.getElementById('review').dataset.decisions === '{len(ids)}'", timeout=45_000)
    page.wait_for_function("() => document.getElementById('review').dataset.state === 'empty'", timeout=45_000)
    assert len(shown) == len(set(shown)) == len(ids) and set(shown) == ids, shown
    assert page.is_visible("#review-empty")
    assert not page.js_errors, page.js_errors
