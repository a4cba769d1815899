"""The issue's "done when", tried as new users would, through the API and pages."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client

from facecommons.rewards.models import PayoutRound, PointsEntry
from tests.rewards.conftest import cats

pytestmark = pytest.mark.django_db


def test_donation_points_in_published_ratio_exact_round_once_and_balance_visible(
        make_user, client_for, api_client, approved, seed_dataset):
    # The dataset so far: "white" is common, "black" three times rarer.
    seed_dataset({"white": 9, "black": 3})
    published = api_client.get("/api/v1/rewards/multipliers/").json()
    eth = {v["value"]: Decimal(v["multiplier"]) for c in published["categories"] if c["category"] == "ethnicity"
           for v in c["values"]}
    assert eth["white"] == 1 and eth["black"] == 3

    # An admin records a donation.
    admin = client_for(make_user(role="admin"))
    r = admin.post("/api/v1/donations/", {"amount_minor": 10_001, "currency": "EUR", "donor_name": "A donor",
                                          "source": "manual", "reference": "SEPA-0001"}, format="json")
    assert r.status_code == 201

    # Three approved photos in the common category, one in the scarce one.
    common_owner, scarce_owner = make_user(), make_user()
    common = [approved(common_owner, cats(ethnicity=["white"])) for _ in range(3)]
    scarce = approved(scarce_owner, cats(ethnicity=["black"]))
    pts = {c.pk: PointsEntry.objects.get(contribution_id=c.pk).points for c in [*common, scarce]}
    for c in common:
        assert pts[c.pk] == published["base_points"] * eth["white"]
    assert pts[scarce.pk] == published["base_points"] * eth["black"]
    assert pts[scarce.pk] / pts[common[0].pk] == eth["black"] / eth["white"]  # the published ratio

    # A payout round splits the pool exactly; starting it twice gives one round.
    first = admin.post("/api/v1/payout-rounds/", format="json")
    second = admin.post("/api/v1/payout-rounds/", format="json")
    assert first.status_code == 201 and second.status_code == 200
    assert first.json()["id"] == second.json()["id"] and PayoutRound.objects.count() == 1
    lines = {ln["pseudonym"]: ln["amount_minor"] for ln in first.json()["lines"]}
    assert sum(lines.values()) == 10_001 == first.json()["distributed_minor"]
    # 30 points each: 5000.5 each, the odd cent to one of them by largest remainder
    assert sorted(lines.values()) == [5000, 5001]
    donate_page = Client().get("/donate/").content.decode()
    assert '<td id="pool-balance">0.00 EUR</td>' in donate_page

    # The contributor sees the balance, through the API and on the page.
    amount = lines[scarce_owner.pseudonym]
    me = client_for(scarce_owner).get("/api/v1/me/rewards/").json()
    assert me["balance"]["amount_minor"] == amount and me["payouts"][0]["amount_minor"] == amount
    browser = Client()
    browser.force_login(scarce_owner)
    page = browser.get("/rewards/").content.decode()
    assert f'<td id="rewards-balance">{Decimal(amount) / 100:.2f} EUR</td>' in page
