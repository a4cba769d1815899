"""A new contributor in headless Chromium: sign up, verify, consent, upload, My photos."""

from __future__ import annotations

import re

import pytest

from facecommons.accounts.models import User
from facecommons.contributions.models import Contribution
from facecommons.contributions.services import contribution_transition

pytestmark = pytest.mark.browser

PASSWORD = "a-browser-contributor-passphrase-5"
LABELS = {"received": "Received", "processing": "Processing", "awaiting_review": "Awaiting review",
          "approved": "Approved", "rejected": "Rejected", "failed": "Failed"}
# A status change the pipeline or a moderator could make next, from each status.
NEXT = {"received": "processing", "processing": "awaiting_review", "awaiting_review": "approved",
        "approved": "rejected", "rejected": "approved", "failed": "received"}


def _advance(contribution: Contribution) -> str:
    contribution.refresh_from_db()
    to = NEXT[contribution.status]
    contribution_transition(contribution=contribution, to=to, reason_code="test" if to == "rejected" else "",
                            message="Changed by the test." if to == "rejected" else "")
    return to


def _choose_categories(page) -> None:
    page.check("input[name=cat-age_range][value='25_34']")
    page.check("input[name=cat-gender][value='self_describe']")
    page.fill("input[name='cat-text__gender']", "genderfluid")
    page.check("input[name=cat-ethnicity][value='east_asian']")
    page.check("input[name=cat-ethnicity][value='white']")
    # The skin tone is chosen by its colour swatch (the radio itself is visually hidden).
    page.click("fieldset[data-category=skin_tone] label[title='Monk 4']")
    page.check("input[name=cat-accessories][value='glasses']")
    # Lighting is chosen per photo, beside each photo (the batch's question gives way to it).
    for select in page.locator("#file-list select[data-role=lighting]").all():
        select.select_option("daylight_outdoors")


def test_sign_up_verify_consent_upload_and_see_it(browser_page, phone_page, live_server, mailoutbox, astronaut_jpeg,
                                                  tmp_path, login):
    page = browser_page
    base = live_server.url

    # Sign up.
    page.goto(f"{base}/")
    page.click("text=Take part")
    page.fill("#id_email", "browser.person@example.org")
    page.fill("#id_password1", PASSWORD)
    page.fill("#id_password2", PASSWORD)
    page.click("#signup-form button[type=submit]")
    page.wait_for_url(re.compile(r"/accounts/confirm-email/$"))
    assert "Check your e-mail" in page.content()

    # The verification link from the outbox.
    assert len(mailoutbox) == 1
    path = re.search(r"https?://[^/\s]+(/accounts/confirm-email/\S+/)", mailoutbox[0].body).group(1)
    page.goto(base + path)
    page.click("#confirm-email-form button[type=submit]")
    page.wait_for_url(lambda url: "/confirm-email/" not in url)
    user = User.objects.get(email="browser.person@example.org")
    assert user.emailaddress_set.get().verified
    if "Log out" not in page.content():  # confirmation logs in when it happens in the sign-up session
        login(page, live_server, user, PASSWORD)
        # Upload without consent: sent to the consent page, with a message.
        page.goto(f"{base}/upload/")
        assert "please read and accept the current consent" in page.content()
    # Led on after the e-mail: consent, then the photo guidelines, then the upload page.
    page.wait_for_url(re.compile(r"/consent/\?next=/guidelines/%3Fonboarding%3D1$"))
    # Before the first consent, three questions; a wrong answer shows the passage that
    # answers it, and the person chooses again.
    assert page.locator("#comprehension-check fieldset.question").count() == 3
    page.check("#question-collected input[value=photos]")
    page.check("#question-download input[value=anyone]")
    page.check("#question-withdraw input[value=account]")
    page.check("#id_adult")
    page.check("#id_agree")
    page.click("#consent-form button[type=submit]")
    page.wait_for_selector("#check-retry")
    assert "approved researchers" in page.locator("#passage-download blockquote").inner_text()
    assert page.locator("#passage-collected").count() == 0
    assert page.locator("#question-collected input[value=photos]").is_checked()
    # The re-asked form answers 400 (not accepted); expected here, so not a fault of the page.
    assert page.bad_responses == [(400, f"{base}/consent/?next=/guidelines/%3Fonboarding%3D1")]
    page.bad_responses.clear()
    page.check("#question-download input[value=researchers]")
    page.click("#consent-form button[type=submit]")
    page.wait_for_url(re.compile(r"/guidelines/\?onboarding=1$"))
    check = user.comprehension_check
    assert check.attempts == 2 and check.wrong == {"download": 1} and check.passed_at is not None
    assert user.consents.get().language == "en"
    assert page.locator(".guideline").count() == 4 and page.locator(".example img").count() == 8
    page.click("text=Continue: upload your first photo")
    page.wait_for_url(re.compile(r"/upload/$"))
    assert page.locator("#id_image").get_attribute("accept") == "image/jpeg,image/png,image/webp,image/heic,image/heif"
    assert page.locator("#id_camera").get_attribute("capture") == "user"
    assert page.locator(".swatch").count() == 10

    # Upload the astronaut through the file picker; the row shows progress, then the status.
    photo = tmp_path / "astronaut.jpg"
    photo.write_bytes(astronaut_jpeg)
    page.set_input_files("#id_image", str(photo))
    row = page.locator("#file-list li.file-row")
    assert row.count() == 1 and "astronaut.jpg" in row.inner_text()
    # A thumbnail of the chosen photo before sending (a local blob: URL the CSP allows).
    page.wait_for_function("() => { const t = document.querySelector('#file-list .file-thumb');"
                           " return t && t.complete && t.naturalWidth > 0; }")
    _choose_categories(page)
    # Before sending: the points a photo with these categories would earn, asked of the server.
    page.wait_for_function("() => /If approved, each photo earns about \\d/.test("
                           "document.getElementById('points-estimate').textContent)")
    page.click("#upload-button")
    page.wait_for_selector("#file-list li.file-row[data-state=done]")
    assert page.locator("#file-list progress").get_attribute("value") == "100" or \
        page.locator("#file-list progress").evaluate("p => p.value") == 100
    c = Contribution.objects.get(owner=user)
    assert c.categories == {"age_range": "25_34", "gender": "self_describe", "ethnicity": ["east_asian", "white"],
                            "skin_tone": "4", "accessories": ["glasses"], "lighting": "daylight_outdoors"}
    assert c.categories_free_text == {"gender": "genderfluid"}
    badge = row.locator(".badge")
    assert badge.inner_text() in LABELS.values()
    # The status changes on the server; the row follows without a reload.
    new = _advance(c)
    page.wait_for_function("([sel, text]) => document.querySelector(sel)?.textContent === text",
                           arg=["#file-list .badge", LABELS[new]])

    # My photos: the photo with its status badge and its image served to its owner.
    page.click("text=My photos")
    page.wait_for_url(re.compile(r"/my/photos/$"))
    card = page.locator(f"li.photo-card[data-id='{c.pk}']")
    assert card.count() == 1
    c.refresh_from_db()
    assert card.locator("[data-role=badge]").inner_text() == LABELS[c.status]
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=card.locator("img.thumb").element_handle())
    new = _advance(c) if c.status not in ("approved", "rejected", "failed") else None
    if new is not None:
        page.wait_for_function("([sel, text]) => document.querySelector(sel)?.textContent === text",
                               arg=[f"li[data-id='{c.pk}'] [data-role=badge]", LABELS[new]], timeout=20_000)
    assert not page.js_errors and not page.bad_responses, (page.js_errors, page.bad_responses)

    # The same pages at a phone's size: nothing wider than the screen, the camera button shown.
    login(phone_page, live_server, user, PASSWORD)
    for url in ("/upload/", "/my/photos/", f"/my/photos/{c.pk}/", "/account/"):
        phone_page.goto(base + url)
        overflow = phone_page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{url} is {overflow}px wider than a 390px phone"
    phone_page.goto(f"{base}/upload/")
    assert phone_page.locator("label[for=id_camera]").is_visible()
    assert phone_page.locator("label[for=id_image]").is_visible()
    # The previous upload's categories are pre-filled.
    assert phone_page.locator("input[name=cat-skin_tone][value='4']").is_checked()
    assert phone_page.locator("input[name='cat-text__gender']").input_value() == "genderfluid"
    assert not phone_page.js_errors and not phone_page.bad_responses


def test_upload_page_shows_server_refusal_per_file(browser_page, live_server, make_user, tmp_path, login,
                                                   astronaut_jpeg, password):
    user = make_user(email="refused@example.org")
    login(browser_page, live_server, user, password)
    page = browser_page
    page.goto(f"{live_server.url}/upload/")
    good = tmp_path / "me.jpg"
    good.write_bytes(astronaut_jpeg)
    bad = tmp_path / "notes.png"
    bad.write_bytes(b"this is not an image at all")
    page.set_input_files("#id_image", [str(good), str(bad)])
    assert page.locator("#file-list li").count() == 2
    # Nothing is sent before every required category has a value.
    page.click("#upload-button")
    assert "Please choose a value for: Age range, Gender" in page.locator("#upload-summary").inner_text()
    assert page.locator("fieldset[data-category=age_range][aria-invalid=true]").count() == 1
    assert not page.is_visible("fieldset[data-category=lighting]")  # asked per photo instead
    assert not Contribution.objects.filter(owner=user).exists()
    _choose_categories(page)
    page.click("#upload-button")
    page.wait_for_selector("#file-list li[data-state=done]")
    page.wait_for_selector("#file-list li[data-state=error]")
    error = page.locator("#file-list li[data-state=error] .file-state").inner_text()
    assert "not" in error.lower() and len(error) > 20  # the server's sentence, not a bare status code
    assert "1 uploaded, 1 refused" in page.locator("#upload-summary").inner_text()
    assert Contribution.objects.filter(owner=user).count() == 1


def test_drop_and_camera_inputs_queue_files(browser_page, live_server, make_user, login, password, astronaut_jpeg,
                                            tmp_path):
    user = make_user(email="dropper@example.org")
    login(browser_page, live_server, user, password)
    page = browser_page
    page.goto(f"{live_server.url}/upload/")
    # A file dropped on the drop zone (a real DragEvent carrying a File).
    page.evaluate("""() => {
        const dt = new DataTransfer();
        dt.items.add(new File([new Uint8Array([255, 216, 255])], "dropped.jpg", {type: "image/jpeg"}));
        document.getElementById("dropzone").dispatchEvent(new DragEvent("drop", {dataTransfer: dt, bubbles: true}));
    }""")
    assert "dropped.jpg" in page.locator("#file-list").inner_text()
    # The camera input (capture="user") feeds the same list.
    shot = tmp_path / "camera.jpg"
    shot.write_bytes(astronaut_jpeg)
    page.set_input_files("#id_camera", str(shot))
    assert page.locator("#file-list li").count() == 2
    # A file over the size limit is refused before it is sent.
    page.evaluate("""() => {
        const dt = new DataTransfer();
        dt.items.add(new File([new Uint8Array(26 * 1024 * 1024)], "huge.jpg", {type: "image/jpeg"}));
        document.getElementById("dropzone").dispatchEvent(new DragEvent("drop", {dataTransfer: dt, bubbles: true}));
    }""")
    huge = page.locator("#file-list li[data-state=error]")
    assert "at most 25 MB" in huge.inner_text()
    assert not page.js_errors
