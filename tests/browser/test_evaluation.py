"""The bias dashboard in a real browser: charts render, the run picker and downloads work."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from tests.evaluation.conftest import _fresh_models, approved_photo, fake_models, private_media  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_dashboard_shows_charts_and_downloads(browser_page, live_server, approved_photo, make_user,  # noqa: F811
                                              fake_models, settings):  # noqa: F811
    settings.EVAL_MIN_GROUP_SIZE = 5
    for i in range(12):
        approved_photo(i, mark=i < 3, categories={"gender": "woman" if i < 6 else "man", "skin_tone": "7"})
    call_command("evaluate", models="test-drop", stdout=io.StringIO())
    call_command("evaluate", models="test-drop", stdout=io.StringIO())  # a second run for the trend
    page = browser_page
    page.goto(f"{live_server.url}/dashboard/")
    assert page.locator("h1").inner_text() == "Bias dashboard"
    assert page.locator(".eval-alert").is_visible()  # 3 of 6 women missed: gap 0.5 > 0.1
    charts = page.locator(".eval-chart svg")
    assert charts.count() >= 3  # rates by gender, by skin tone, trend
    assert charts.first.bounding_box()["width"] > 200
    options = page.locator("select#run option")
    assert options.count() == 2
    page.select_option("select#run", index=1)
    page.wait_for_url("**/dashboard/?run=*")
    assert page.locator(".eval-chart svg").count() >= 3
    with page.expect_download() as dl:
        page.locator("figcaption a", has_text="PNG").first.click()
    assert dl.value.suggested_filename.endswith(".png")
    with page.expect_download() as dl:
        page.get_by_role("link", name="CSV").click()
    assert dl.value.suggested_filename.endswith(".csv")
    assert not page.js_errors and not page.bad_responses
