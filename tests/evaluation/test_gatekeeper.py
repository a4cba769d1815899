"""The gatekeeper audit, checked by hand on a small seeded set (four women, four men)."""

from __future__ import annotations

import pytest
from django.core import mail

from facecommons.contributions.models import ReviewRequest
from facecommons.evaluation.gatekeeper import gatekeeper_alert_notify, gatekeeper_audit_run, gatekeeper_rows
from facecommons.moderation.models import ContributionFlag, Review
from facecommons.pipeline.models import PhotoAnalysis
from ml.metrics.intervals import wilson
from tests.factories import DEFAULT_CATEGORIES, make_contribution

# name: (gender, route, findings, status, asked a person, detector missed)
SEED = {
    "W1": ("woman", "review", [], "approved", False, False),
    "W2": ("woman", "review", ["soft"], "approved", False, False),
    "W3": ("woman", "await_contributor", ["no_face"], "approved", True, True),
    "W4": ("woman", "await_contributor", ["no_face"], "awaiting_contributor", False, False),
    "M1": ("man", "review", [], "approved", False, False),
    "M2": ("man", "review", [], "approved", False, False),
    "M3": ("man", "review", ["dark"], "rejected", False, False),
    "M4": ("man", "reject", ["multiple_faces"], "rejected", False, False),
}


@pytest.fixture
def seeded(make_user):
    moderator = make_user(role="moderator")
    photos = {}
    for name, (gender, route, findings, status, asked, missed) in SEED.items():
        c = make_contribution(make_user(), status=status, categories={**DEFAULT_CATEGORIES, "gender": gender})
        PhotoAnalysis.objects.create(contribution=c, verdict_code=route, findings=findings, detector_missed=missed)
        if asked:
            ReviewRequest.objects.create(contribution=c, route=route, findings=findings)
        if status == "approved":
            Review.objects.create(contribution=c, moderator=moderator, decision="approve")
        elif name == "M3":  # a moderator upheld the finding; M4 was rejected by the machine alone
            Review.objects.create(contribution=c, moderator=moderator, decision="reject", reason_code="poor_quality")
        photos[name] = c
    ContributionFlag.objects.create(contribution=photos["W1"], kind="same_face", resolved=True)
    ContributionFlag.objects.create(contribution=photos["M1"], kind="same_face", resolved=False)
    ContributionFlag.objects.create(contribution=photos["M2"], kind="near_duplicate", resolved=True)
    return photos


def _by_key(rows):
    return {(r.category, r.value, r.metric): r for r in rows}


@pytest.mark.django_db
def test_audit_numbers_by_hand(seeded):
    rows = _by_key(gatekeeper_rows(min_n=1))
    expected = {
        # metric: (woman k/n, man k/n)
        "flagged": ((3, 4), (2, 4)),                 # W2 W3 W4 | M3 M4
        "not_queued": ((2, 4), (1, 4)),              # W3 W4 | M4
        "review_requested": ((1, 2), (0, 1)),        # of those: W3 asked | M4 did not
        "finding_overturned": ((2, 2), (0, 1)),      # decided by a person: W2 W3 approved | M3 upheld
        "detector_missed": ((1, 3), (0, 2)),         # approved: W1 W2 W3 (W3 missed) | M1 M2
        "flag_raised:same_face": ((1, 3), (1, 3)),   # reached review: W1 W2 W3 | M1 M2 M3
        "flag_dismissed:same_face": ((1, 1), (0, 1)),
        "flag_raised:near_duplicate": ((0, 3), (1, 3)),
        "flag_dismissed:near_duplicate": (None, (1, 1)),
    }
    for metric, per_gender in expected.items():
        for gender, kn in zip(("woman", "man"), per_gender, strict=True):
            row = rows.get(("gender", gender, metric))
            if kn is None:
                assert row is None, (metric, gender)
                continue
            k, n = kn
            assert row is not None and row.n == n and row.estimate == pytest.approx(k / n), (metric, gender, row)
            assert (row.ci_low, row.ci_high) == pytest.approx(wilson(k, n)), (metric, gender)
    overall = rows[("all", "all", "flagged")]
    assert (overall.n, overall.estimate) == (8, pytest.approx(5 / 8))
    assert rows[("all", "all", "finding_overturned")].estimate == pytest.approx(2 / 3)
    assert rows[("gender", "*", "finding_overturned_gap")].estimate == pytest.approx(1.0)
    assert rows[("gender", "*", "not_queued_gap")].estimate == pytest.approx(0.25)
    assert rows[("gender", "*", "detector_missed_gap")].estimate == pytest.approx(1 / 3)
    # The evaluation's intersections are audited too.
    inter = rows[("gender&ethnicity", "gender=woman&ethnicity=black", "not_queued")]
    assert (inter.n, inter.estimate) == (4, pytest.approx(0.5))


@pytest.mark.django_db
def test_groups_below_the_minimum_carry_no_estimate(seeded, settings):
    settings.EVAL_MIN_GROUP_SIZE = 5
    rows = _by_key(gatekeeper_rows())
    woman = rows[("gender", "woman", "flagged")]
    assert woman.insufficient and woman.estimate is None and woman.n == 4
    assert rows[("all", "all", "flagged")].estimate == pytest.approx(5 / 8)
    assert ("gender", "*", "flagged_gap") not in rows  # no gap between insufficient groups


@pytest.mark.django_db
def test_alert_banner_mail_once_and_public_pages(seeded, settings, make_user, client):
    settings.EVAL_MIN_GROUP_SIZE = 1
    settings.STATS_MIN_COUNT = 3
    make_user(role="admin", email="admin@example.org")
    audit = gatekeeper_audit_run()
    alerted = {(a["category"], a["metric"]) for a in audit.alerts}
    assert ("gender", "finding_overturned_gap") in alerted and ("gender", "not_queued_gap") in alerted
    assert ("gender", "flag_raised:near_duplicate_gap") in alerted
    assert not any(m.startswith("flag_raised:same_face") for _, m in alerted)  # 1/3 vs 1/3: no gap
    assert gatekeeper_alert_notify(audit_id=audit.pk) is True
    sent = [m for m in mail.outbox if "admin@example.org" in m.to]
    assert len(sent) == 1 and "finding_overturned_gap over gender" in sent[0].body
    # The same alerts an hour later are not mailed again.
    again = gatekeeper_audit_run()
    assert gatekeeper_alert_notify(audit_id=again.pk) is False
    assert len([m for m in mail.outbox if "admin@example.org" in m.to]) == 1

    page = client.get("/dashboard/").content.decode()
    assert 'id="gatekeeper"' in page and "gatekeeper-alert" in page
    assert client.get("/stats/").content.decode().count('id="gatekeeper"') == 1
    body = client.get("/api/v1/gatekeeper/").json()
    assert body["photos"] == 8 and body["alerts"]
    api = {(r["category"], r["value"], r["metric"]): r for r in body["rows"]}
    assert api[("gender", "woman", "not_queued")]["estimate"] == pytest.approx(0.5)
    # Below STATS_MIN_COUNT (3) a group shows neither its n nor its figures.
    hidden = api[("gender", "woman", "review_requested")]  # n = 2
    assert hidden["n"] is None and hidden["estimate"] is None and hidden["ci_low"] is None
