"""Rewards in a real browser: a contributor with an approved photo sees points and balance,
declines and re-accepts rewards; the public pages render with the monetization link."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def test_contributor_sees_points_balance_and_toggles_rewards(browser_page, live_server, login, make_user, settings):
    from facecommons.contributions.services import contribution_transition
    from facecommons.rewards.payouts import payout_round_run
    from facecommons.rewards.providers import get_provider
    from tests.factories import make_contribution

    settings.WEB_MONETIZATION_POINTER = "https://ilp.example.org/fc"
    user = make_user()
    c = make_contribution(user, status="awaiting_review")
    contribution_transition(contribution=c, to="approved")  # transactional db: on_commit fires
    get_provider("manual").record_donation(amount_minor=1234)
    payout_round_run(started_by=None, period="browser")

    page = browser_page
    login(page, live_server, user, next_url="/rewards/")
    page.goto(f"{live_server.url}/rewards/")
    assert page.locator("#rewards-balance").inner_text() == "12.34 EUR"
    assert page.locator("link[rel=monetization]").get_attribute("href") == "https://ilp.example.org/fc"
    page.click("text=Decline rewards")
    page.wait_for_selector("text=You have declined rewards")
    page.click("text=Take part in rewards again")
    page.wait_for_selector("text=Decline rewards")

    page.goto(f"{live_server.url}/donate/")
    assert page.locator("#pool-balance").inner_text() == "0.00 EUR"
    page.goto(f"{live_server.url}/rewards/multipliers/")
    assert page.locator("table.multipliers").count() >= 6
    assert page.js_errors == []
    assert page.bad_responses == []
