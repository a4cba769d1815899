"""API and pages: auth, errors as {"error": ...}, float refusal, the monetization link."""

from __future__ import annotations

import pytest
from django.test import Client

from facecommons.rewards.ledger import pool_balance
from facecommons.rewards.models import Donation, PayoutRound, RewardsProfile

pytestmark = pytest.mark.django_db


def test_multipliers_api_is_public(api_client, seed_dataset):
    seed_dataset({"white": 2, "black": 1})
    r = api_client.get("/api/v1/rewards/multipliers/")
    assert r.status_code == 200
    body = r.json()
    assert body["base_points"] == 10 and body["max_multiplier"] == "5.00" and body["approved_photos"] == 3
    eth = next(c for c in body["categories"] if c["category"] == "ethnicity")
    values = {v["value"]: v for v in eth["values"]}
    assert values["black"]["multiplier"] == "2.0000" and values["black"]["points"] == "20.00"
    assert values["black"]["approved_photos"] == 1


def test_multipliers_page_is_public(seed_dataset):
    seed_dataset({"white": 2, "black": 1})
    r = Client().get("/rewards/multipliers/")
    assert r.status_code == 200
    html = r.content.decode()
    # Each multiplier is also drawn as a bar on the scale 0 to the cap.
    assert ('data-value="black"><td>Black</td><td>1</td><td><meter min="0" max="5.00" value="2.0000" '
            'aria-hidden="true"></meter> 2.0000</td><td>20.00</td>') in html


def test_me_rewards_requires_login(api_client):
    r = api_client.get("/api/v1/me/rewards/")
    assert r.status_code in (401, 403)
    assert "error" in r.json()


def test_me_rewards(client_for, make_user, approved):
    u = make_user()
    approved(u)
    r = client_for(u).get("/api/v1/me/rewards/")
    assert r.status_code == 200
    body = r.json()
    assert body["points"]["since_last_round"] == "10.00"
    assert body["balance"] == {"amount_minor": 0, "currency": "EUR", "display": "0.00 EUR"}
    assert body["declined"] is False and len(body["history"]) == 1


@pytest.mark.parametrize("path", ["/api/v1/donations/", "/api/v1/payout-rounds/"])
def test_admin_endpoints_forbidden_for_non_admins(client_for, make_user, api_client, path):
    for role in ("contributor", "moderator", "researcher"):
        r = client_for(make_user(role=role)).post(path, {"amount_minor": 100}, format="json")
        assert r.status_code == 403, role
        assert r.json()["error"]["code"] == "permission_denied"
    assert api_client.post(path, {"amount_minor": 100}, format="json").status_code in (401, 403)
    assert Donation.objects.count() == 0 and PayoutRound.objects.count() == 0


def test_donation_api(client_for, make_user):
    admin = client_for(make_user(role="admin"))
    r = admin.post("/api/v1/donations/", {"amount_minor": 2500, "currency": "EUR", "donor_name": "Grace",
                                          "anonymous": True, "source": "web_monetization", "reference": "wm-2026-11"},
                   format="json")
    assert r.status_code == 201, r.content
    assert r.json()["source"] == "web_monetization" and r.json()["display"] == "25.00 EUR"
    assert pool_balance() == 2500
    again = admin.post("/api/v1/donations/", {"amount_minor": 2500, "source": "web_monetization",
                                              "reference": "wm-2026-11"}, format="json")
    assert again.status_code == 400 and "already recorded" in again.json()["error"]["message"]


@pytest.mark.parametrize("payload,needle", [
    ({"amount_minor": 12.5}, "not a float"),
    ({"amount_minor": 12.0}, "not a float"),
    ({"amount_minor": "1250"}, "not a str"),
    ({"amount_minor": 0}, "positive"),
    ({"amount_minor": -3}, "positive"),
    ({}, "required"),
    ({"amount_minor": 100, "source": "paypal"}, "Unknown source"),
    ({"amount_minor": 100, "currency": "USD"}, "Only EUR"),
    ({"amount_minor": 100, "currency": "EURO"}, "currency"),
    ({"amount_minor": 10**15}, "too large"),
])
def test_donation_api_rejects_bad_input(client_for, make_user, payload, needle):
    r = client_for(make_user(role="admin")).post("/api/v1/donations/", payload, format="json")
    assert r.status_code == 400, r.content
    assert needle in r.json()["error"]["message"]
    assert Donation.objects.count() == 0


def test_donation_api_rejects_non_object(client_for, make_user):
    r = client_for(make_user(role="admin")).post("/api/v1/donations/", [1, 2], format="json")
    assert r.status_code == 400 and "JSON object" in r.json()["error"]["message"]
    r = client_for(make_user(role="admin")).post("/api/v1/donations/", "{not json", content_type="application/json")
    assert r.status_code == 400 and "error" in r.json()


def test_payout_round_api(client_for, make_user, approved):
    admin = client_for(make_user(role="admin"))
    admin.post("/api/v1/donations/", {"amount_minor": 1000}, format="json")
    u = make_user()
    approved(u)
    r = admin.post("/api/v1/payout-rounds/", format="json")
    assert r.status_code == 201
    body = r.json()
    assert body["distributed_minor"] == 1000
    assert body["lines"] == [{"pseudonym": u.pseudonym, "points": "10.00", "amount_minor": 1000, "status": "pending"}]
    again = admin.post("/api/v1/payout-rounds/", format="json")
    assert again.status_code == 200 and again.json()["id"] == body["id"]
    assert admin.get("/api/v1/payout-rounds/").json()["results"][0]["id"] == body["id"]


def test_donate_page_shows_pool(client_for, make_user):
    client_for(make_user(role="admin")).post("/api/v1/donations/", {"amount_minor": 4321}, format="json")
    r = Client().get("/donate/")
    assert r.status_code == 200
    html = r.content.decode()
    assert '<td id="pool-balance">43.21 EUR</td>' in html
    assert "Where the money goes" in html


def test_web_monetization_link_on_every_page_when_configured(settings, make_user):
    settings.WEB_MONETIZATION_POINTER = "https://ilp.example.org/facecommons"
    link = '<link rel="monetization" href="https://ilp.example.org/facecommons">'
    c = Client()
    for path in ("/", "/donate/", "/rewards/multipliers/"):
        assert link in c.get(path).content.decode(), path
    c.force_login(make_user())
    assert link in c.get("/rewards/").content.decode()


def test_no_monetization_link_without_pointer(settings):
    settings.WEB_MONETIZATION_POINTER = ""
    assert 'rel="monetization"' not in Client().get("/donate/").content.decode()


def test_rewards_page_and_decline_toggle(make_user, approved):
    u = make_user()
    approved(u)
    c = Client()
    assert c.get("/rewards/").status_code == 302  # login required
    c.force_login(u)
    html = c.get("/rewards/").content.decode()
    assert '<td id="rewards-points">10.00</td>' in html and "Decline rewards" in html
    r = c.post("/rewards/choice/", {"choice": "decline"})
    assert r.status_code == 302 and RewardsProfile.objects.get(user=u).declined
    assert "You have declined rewards" in c.get("/rewards/").content.decode()
    c.post("/rewards/choice/", {"choice": "accept"})
    assert not RewardsProfile.objects.get(user=u).declined
    assert c.post("/rewards/choice/", {"choice": "maybe"}).status_code == 302
    assert c.get("/rewards/choice/").status_code == 405


def test_admin_pages_render(make_user, approved):
    from facecommons.rewards.payouts import payout_round_run
    from facecommons.rewards.providers import get_provider

    admin = make_user(role="admin")
    get_provider("manual").record_donation(amount_minor=300)
    approved(make_user())
    rnd = payout_round_run(started_by=admin, period="adm")
    c = Client()
    c.force_login(admin)
    for model in ("account", "transaction", "entry", "donation", "payoutround", "payoutline", "pointsentry",
                  "multipliersnapshot", "rewardsprofile"):
        assert c.get(f"/admin/rewards/{model}/").status_code == 200, model
    assert c.get(f"/admin/rewards/payoutround/{rnd.pk}/change/").status_code == 200
    assert c.get("/admin/rewards/donation/add/").status_code == 200
    r = c.post("/admin/rewards/donation/add/", {"provider": "manual", "amount_minor": "1500", "currency": "EUR",
                                                "donor_name": "Bank", "reference": "T-9",
                                                "received_at_0": "2026-11-01", "received_at_1": "10:00:00"})
    assert r.status_code == 302
    assert Donation.objects.filter(reference="T-9", amount_minor=1500).exists()
    r = c.post("/admin/rewards/payoutround/", {"action": "export_csv", "_selected_action": [rnd.pk]})
    assert r.status_code == 200 and r["Content-Type"] == "text/csv" and b"adm" in r.content
    # the start button (this month's round)
    r = c.post("/admin/rewards/payoutround/start/")
    assert r.status_code == 302 and PayoutRound.objects.count() == 2
    # a non-admin staff page visit is refused
    c.force_login(make_user())
    assert c.get("/admin/rewards/transaction/").status_code == 302


def test_admin_donation_errors_are_messages_not_500(make_user):
    admin = make_user(role="admin")
    c = Client()
    c.force_login(admin)
    form = {"provider": "manual", "amount_minor": "100", "currency": "EUR", "reference": "DUP",
            "received_at_0": "2026-11-01", "received_at_1": "10:00:00"}
    assert c.post("/admin/rewards/donation/add/", form).status_code == 302
    r = c.post("/admin/rewards/donation/add/", form, follow=True)
    assert r.status_code == 200 and "is already recorded" in r.content.decode()
    r = c.post("/admin/rewards/donation/add/", {**form, "reference": "X", "currency": "USD"}, follow=True)
    assert r.status_code == 200 and "Only EUR" in r.content.decode()
    r = c.post("/admin/rewards/donation/add/", {**form, "reference": "Y", "amount_minor": "1.5"})
    assert r.status_code == 200  # form error re-displayed
    assert Donation.objects.count() == 1 and pool_balance() == 100
