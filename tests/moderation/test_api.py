"""The moderation API and pages: leasing, decisions, refusals, query counts."""

from __future__ import annotations

import pytest
from django.test import Client

from facecommons.contributions.models import Contribution
from facecommons.moderation.models import ContributionFlag
from facecommons.pipeline.models import PhotoAnalysis
from tests.factories import make_contribution

pytestmark = pytest.mark.django_db


def _next(client, **body):
    return client.post("/api/v1/moderation/next/", body, format="json")


def test_two_moderators_approve_through_the_api(mods, contributor, client_for):
    c = make_contribution(contributor)
    for m in mods[:2]:
        api = client_for(m)
        r = _next(api)
        assert r.status_code == 200, r.content
        body = r.json()
        assert body["id"] == str(c.pk)
        assert body["images"]["original"] == f"/api/v1/contributions/{c.pk}/image/?variant=original"
        assert body["contributor"]["pseudonym"] == contributor.pseudonym
        assert body["lease_expires_at"]
        assert api.get(body["images"]["original"]).status_code == 200
        r = api.post(f"/api/v1/moderation/{c.pk}/decision/", {"decision": "approve"}, format="json")
        assert r.status_code == 200, r.content
    assert r.json() == {"outcome": "approved", "status": "approved", "corrected_categories": {}}
    assert Contribution.objects.get(pk=c.pk).status == "approved"
    assert _next(client_for(mods[2])).status_code == 204


def test_api_refusals(mods, contributor, client_for, make_user):
    own = make_contribution(mods[0])
    c = make_contribution(contributor)
    a, b = client_for(mods[0]), client_for(mods[1])
    r = a.post(f"/api/v1/moderation/{own.pk}/decision/", {"decision": "approve"}, format="json")
    assert r.status_code == 403 and "own photo" in r.json()["error"]["message"]
    assert _next(a).json()["id"] == str(c.pk)  # never their own
    r = b.post(f"/api/v1/moderation/{c.pk}/decision/", {"decision": "approve"}, format="json")
    assert r.status_code == 409 and r.json()["error"]["code"] == "not_leased"
    assert a.post(f"/api/v1/moderation/{c.pk}/decision/", {"decision": "approve"}, format="json").status_code == 200
    r = a.post(f"/api/v1/moderation/{c.pk}/decision/", {"decision": "approve"}, format="json")
    assert r.status_code == 409 and r.json()["error"]["code"] == "already_reviewed"
    assert b.post("/api/v1/moderation/00000000-0000-4000-8000-000000000000/decision/", {"decision": "approve"},
                  format="json").status_code == 404


@pytest.mark.parametrize("body", [{}, {"decision": "nope"}, {"decision": "reject", "reason_code": "bad"},
                                  {"decision": "reject", "reason_code": "other"}, {"decision": "approve", "note": "x" * 3000},
                                  {"decision": "correct", "categories": {"skin_tone": "42"}}, ["approve"],
                                  {"decision": "correct", "categories": "x"}])
def test_bad_decisions_are_400(mods, contributor, client_for, body):
    c = make_contribution(contributor)
    api = client_for(mods[0])
    _next(api)
    r = api.post(f"/api/v1/moderation/{c.pk}/decision/", body, format="json")
    assert r.status_code == 400, r.content
    assert r.json()["error"]["message"]


def test_bad_next_body_is_400(mods, client_for):
    assert _next(client_for(mods[0]), held=["not-a-uuid"]).status_code == 400


def test_buffer_of_two_leases(mods, contributor, client_for):
    cs = [make_contribution(contributor) for _ in range(3)]
    api = client_for(mods[0])
    first = _next(api).json()["id"]
    second = _next(api, held=[first]).json()["id"]
    assert first != second and {first, second} <= {str(c.pk) for c in cs}
    # Another moderator gets the third; reloading the page gives back the held ones first.
    assert _next(client_for(mods[1])).json()["id"] not in (first, second)
    assert _next(api).json()["id"] == first


def test_query_count_next_and_decision(mods, contributor, client_for, django_assert_max_num_queries, make_user):
    others = [make_user() for _ in range(3)]
    cs = [make_contribution(contributor) for _ in range(5)] + [make_contribution(o) for o in others]
    for c in cs[:4]:
        PhotoAnalysis.objects.create(contribution=c, face={"box": [1, 1, 50, 50]},
                                     detections_original=[{"box": [1, 1, 50, 50], "score": 0.9, "landmarks": []}])
    for c in cs[1:]:
        ContributionFlag.objects.create(contribution=cs[0], kind="near_duplicate", related_contribution=c, score=2,
                                        detail={"hamming": 2, "same_account": c.owner_id == contributor.pk})
    api = client_for(mods[0])
    _next(api)  # warm caches (taxonomy, role cache per request anyway)
    with django_assert_max_num_queries(22):
        r = _next(api, held=[str(cs[0].pk)])
    assert r.status_code == 200
    cid = r.json()["id"]
    with django_assert_max_num_queries(22):
        r = api.post(f"/api/v1/moderation/{cid}/decision/", {"decision": "approve"}, format="json")
    assert r.status_code == 200


def test_evidence_has_flags_analysis_and_enhanced(mods, contributor, client_for, make_user):
    other = make_user()
    c = make_contribution(contributor)
    d = make_contribution(other)
    PhotoAnalysis.objects.create(contribution=c, lowlight={"is_low_light": True, "mean": 0.1}, enhanced=True,
                                 detections_original=[{"box": [10, 10, 90, 90], "score": 0.99,
                                                       "landmarks": [[30, 40], [60, 40], [45, 55], [35, 70], [55, 70]]}])
    ContributionFlag.objects.create(contribution=c, kind="same_face", related_contribution=d, score=0.31)
    r = _next(client_for(mods[0])).json()
    assert r["id"] == str(c.pk)  # the older one
    assert r["analysis"]["lowlight"]["is_low_light"] is True
    assert r["analysis"]["detections_original"][0]["landmarks"][0] == [30, 40]
    flag = r["flags"][0]
    assert flag["kind"] == "same_face" and flag["related"]["id"] == str(d.pk)
    assert flag["related"]["same_account"] is False and flag["related"]["pseudonym"] == other.pseudonym
    assert r["contributor"]["flags"] == 1 and r["contributor"]["awaiting"] == 1
    assert {c["key"] for c in r["taxonomy"]["categories"]} >= {"skin_tone", "age_range"}


def test_review_page_and_admin_pages(mods, contributor, make_user, django_assert_max_num_queries):
    from tests.moderation.conftest import decide

    admin = make_user(role="admin")
    cs = [make_contribution(contributor) for _ in range(4)]
    for c in cs:
        decide(mods[0], c, "approve")
    decide(mods[1], cs[0], "approve")
    decide(mods[1], cs[1], "reject", reason_code="poor_quality")  # escalates
    web = Client()
    web.force_login(mods[0])
    with django_assert_max_num_queries(8):
        r = web.get("/moderation/")
    assert r.status_code == 200 and b"review-config" in r.content
    assert b'href="/moderation/"' in web.get("/my/photos/").content  # base.html: perms.moderation.review
    web.force_login(admin)
    with django_assert_max_num_queries(12):
        r = web.get("/moderation/agreement/")
    assert r.status_code == 200 and mods[0].pseudonym.encode() in r.content
    with django_assert_max_num_queries(12):
        r = web.get("/moderation/escalations/")
    assert r.status_code == 200 and str(cs[1].pk).encode() in r.content
    r = web.post("/moderation/escalations/", {"contribution": str(cs[1].pk), "decision": "approve"})
    assert r.status_code == 302
    assert Contribution.objects.get(pk=cs[1].pk).status == "approved"
    with django_assert_max_num_queries(12):
        r = web.get("/moderation/audit/", {"action": "moderation_approve"})
    assert r.status_code == 200 and b"moderation_approve" in r.content
    r = web.get("/moderation/audit/", {"object_id": str(cs[1].pk), "format": "csv"})
    assert r.status_code == 200 and r["Content-Type"].startswith("text/csv")
    body = b"".join(r.streaming_content).decode()
    lines = body.strip().splitlines()
    assert lines[0].startswith("created_at,actor,action")
    assert any("escalation_resolved" in line for line in lines)
    assert web.get("/moderation/audit/", {"date_from": "not-a-date"}).status_code == 400
    assert web.post("/moderation/escalations/", {"contribution": "zzz", "decision": "approve"}).status_code == 302


def test_review_permission_granted_to_moderators_and_admins(make_user):
    from django.contrib.auth import get_user_model

    User = get_user_model()
    mod, admin, plain = make_user(role="moderator"), make_user(role="admin"), make_user()
    for u, expected in ((mod, True), (admin, True), (plain, False)):
        assert User.objects.get(pk=u.pk).has_perm("moderation.review") is expected
