"""Public statistics: counts per value and intersection, undeclared share, growth, suppression."""

from __future__ import annotations

import pytest

from tests.common.inline import external_assets
from tests.factories import make_contribution

pytestmark = pytest.mark.django_db


@pytest.fixture
def photos(make_user):
    big = make_user(email="big@example.org")
    for _ in range(6):
        make_contribution(big, status="approved", categories={"gender": "woman", "skin_tone": "3",
                                                              "age_range": "25_34", "ethnicity": ["white"]})
    small = make_user(email="small@example.org")
    for _ in range(2):
        make_contribution(small, status="approved", categories={"gender": "prefer_not_to_say", "skin_tone": "9",
                                                                "age_range": "65_plus", "ethnicity": ["black"]})
    make_contribution(small, status="awaiting_review", categories={"gender": "man"})


def test_stats_api_suppresses_small_counts(photos, api_client):
    resp = api_client.get("/api/v1/stats/")
    assert resp.status_code == 200
    data = resp.json()
    assert data["approved_photos"] == 8 and data["min_count"] == 5
    gender = {v["value"]: v for c in data["categories"] if c["key"] == "gender" for v in c["values"]}
    assert gender["woman"]["count"] == 6 and gender["woman"]["suppressed"] is False
    assert gender["prefer_not_to_say"]["count"] is None and gender["prefer_not_to_say"]["suppressed"] is True
    assert gender["man"]["count"] == 0 and gender["man"]["suppressed"] is False
    undeclared = next(c for c in data["categories"] if c["key"] == "gender")["undeclared"]
    assert undeclared["suppressed"] is True and undeclared["share"] is None
    inter = next(i for i in data["intersections"] if i["name"] == "gender × skin_tone")
    cells = {(c["a"], c["b"]): c for c in inter["cells"]}
    assert cells[("woman", "3")]["count"] == 6
    assert cells[("prefer_not_to_say", "9")]["count"] is None and cells[("prefer_not_to_say", "9")]["suppressed"]
    assert {i["name"] for i in data["intersections"]} >= {"gender × skin_tone", "age_range × gender",
                                                          "ethnicity × skin_tone"}
    assert data["growth"][-1]["cumulative"] == 8


def test_stats_page_shows_fewer_than_k(photos, client, settings):
    page = client.get("/stats/").content.decode()
    assert "fewer than 5" in page and 'id="approved-total">8<' in page
    assert 'class="hbar' in page and not external_assets(page)  # charts are the platform's CSS, nothing external
    settings.STATS_MIN_COUNT = 2
    page = client.get("/stats/").content.decode()
    assert "fewer than 2" in page
    assert "fewer than 5" not in page
