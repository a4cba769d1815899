"""Headless Chromium: the dataset page of a version, as the public and as a researcher."""

from __future__ import annotations

import pytest

from tests.releases.conftest import build, make_dataset, release_admin  # noqa: F401, F811 - fixtures

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_dataset_page(browser_page, live_server, login, make_user, make_dataset, build):  # noqa: F811
    from facecommons.releases.services import agreement_current, application_decide, application_submit

    make_dataset(12)
    snap = build()
    page = browser_page
    page.goto(f"{live_server.url}/datasets/")
    page.wait_for_selector("#dataset")
    assert page.url.endswith(f"/datasets/{snap.version}/")
    assert page.locator("#composition meter").count() > 5
    assert page.locator("#composition .stat-intersection").count() == 3
    assert "datasets.load_dataset" in page.inner_text("#snippet-datasets")
    assert snap.version in page.inner_text("#cite-bibtex")
    assert page.locator("#public-key").inner_text().strip()
    assert page.locator("#preview-rows").count() == 0
    # The copy button works (no inline script: the page's own static file does it).
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.click("button[data-copy=cite-bibtex]")
    page.wait_for_selector("button[data-copy=cite-bibtex].copied")
    assert snap.version in page.evaluate("navigator.clipboard.readText()")

    # An approved researcher sees rows with thumbnails, and the thumbnails load.
    admin = make_user(role="admin", email="boss@example.org")
    user = make_user(email="ada@example.org", consent=False)
    app = application_submit(user=user, name="Ada", institution="Uni", purpose="Measuring detector bias by group.",
                             agreement_version=agreement_current().version)
    application_decide(application=app, actor=admin, approve=True)
    login(page, live_server, user, next_url=f"/datasets/{snap.version}/")
    page.goto(f"{live_server.url}/datasets/{snap.version}/#preview")
    page.wait_for_selector("#preview-rows img.thumb")
    loaded = page.evaluate("Array.from(document.querySelectorAll('#preview-rows img.thumb'))"
                           ".every(i => i.complete && i.naturalWidth > 0)")
    assert loaded
    assert not page.js_errors and not page.bad_responses
