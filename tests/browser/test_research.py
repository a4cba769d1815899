"""Headless Chromium: a researcher applies, an admin approves in the admin, the researcher
creates a token and downloads the snapshot from the research page."""

from __future__ import annotations

import pytest

from tests.releases.conftest import build, make_dataset, release_admin  # noqa: F401, F811 - fixtures

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_apply_approve_download(browser, browser_page, live_server, login, make_user, make_dataset, build, tmp_path):  # noqa: F811
    from facecommons.releases.models import Download, ResearcherApplication

    make_dataset(4)
    snap = build()
    researcher = make_user(email="ada@example.org", consent=False)
    admin = make_user(role="admin", email="boss@example.org")
    page = browser_page

    # 1. The researcher applies, accepting the agreement.
    login(page, live_server, researcher, next_url="/research/")
    page.goto(f"{live_server.url}/research/")
    page.fill("#apply-form input[name=name]", "Ada Lovelace")
    page.fill("#apply-form input[name=institution]", "Analytical Engine Institute")
    page.fill("#apply-form textarea[name=purpose]", "Measuring demographic bias of face detectors.")
    page.check("#apply-form input[name=accept_agreement]")
    page.click("#apply-form button[type=submit]")
    page.wait_for_selector("#application-status .status-pending")
    app = ResearcherApplication.objects.get(user=researcher)

    # 2. An admin approves it in the Django admin.
    context = browser.new_context()
    admin_page = context.new_page()
    login(admin_page, live_server, admin, next_url="/admin/")
    admin_page.goto(f"{live_server.url}/admin/releases/researcherapplication/{app.pk}/change/")
    admin_page.select_option("select[name=status]", "approved")
    admin_page.click("input[name=_save]")
    admin_page.wait_for_url(lambda url: url.endswith("/admin/releases/researcherapplication/"))
    context.close()
    app.refresh_from_db()
    assert app.status == "approved"

    # 3. The researcher makes a token (shown once) and downloads the snapshot.
    page.goto(f"{live_server.url}/research/")
    page.fill("#token-form input[name=name]", "laptop")
    page.click("#token-form button[type=submit]")
    token = page.inner_text("#new-token").strip()
    assert token.startswith("fcr_")
    with page.expect_download() as info:
        page.click(f"#downloads a.download[href$='/research/snapshots/{snap.version}/download/']")
    path = tmp_path / "snap.tar"
    info.value.save_as(path)
    from tests.releases.conftest import archive_bytes

    assert len(path.read_bytes()) == snap.archive_size and path.read_bytes() == archive_bytes(snap)
    # And resumes a download with the token through the API (as curl -C - would).
    resp = page.request.get(f"{live_server.url}/api/v1/snapshots/{snap.version}/download/",
                            headers={"Authorization": f"Bearer {token}", "Range": "bytes=100-"})
    assert resp.status == 206
    assert resp.body() == path.read_bytes()[100:]
    assert Download.objects.filter(user=researcher).count() == 2
    assert not getattr(page, "console_errors", [])
