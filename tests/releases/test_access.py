"""Applications, decisions, agreements, tokens on the page, the build API."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_apply_and_admin_approves_by_api(make_user, client_for, release_admin, mailoutbox,
                                        django_capture_on_commit_callbacks):
    from facecommons.accounts.roles import is_researcher

    user = make_user(email="r@example.org")
    c = client_for(user)
    bad = c.post("/api/v1/researcher-applications/", {"name": "R", "institution": "U", "purpose": "short",
                                                       "agreement_version": 1, "accept_agreement": True}, format="json")
    assert bad.status_code == 400 and "purpose" in bad.json()["error"]["message"]
    refused_terms = c.post("/api/v1/researcher-applications/", {
        "name": "R", "institution": "U", "purpose": "Auditing face detectors for bias.", "agreement_version": 1,
        "accept_agreement": False}, format="json")
    assert refused_terms.status_code == 400
    wrong_version = c.post("/api/v1/researcher-applications/", {
        "name": "R", "institution": "U", "purpose": "Auditing face detectors for bias.", "agreement_version": 7,
        "accept_agreement": True}, format="json")
    assert wrong_version.status_code == 400 and wrong_version.json()["error"]["code"] == "agreement_outdated"
    ok = c.post("/api/v1/researcher-applications/", {
        "name": "R", "institution": "U", "purpose": "Auditing face detectors for bias.", "agreement_version": 1,
        "accept_agreement": True}, format="json")
    assert ok.status_code == 201 and ok.json()["status"] == "pending"
    again = c.post("/api/v1/researcher-applications/", {
        "name": "R", "institution": "U", "purpose": "Auditing face detectors for bias.", "agreement_version": 1,
        "accept_agreement": True}, format="json")
    assert again.status_code == 409
    app_id = ok.json()["id"]
    assert c.post(f"/api/v1/researcher-applications/{app_id}/decision/", {"decision": "approve"},
                  format="json").status_code == 403
    admin = client_for(release_admin)
    assert admin.post(f"/api/v1/researcher-applications/{app_id}/decision/", {"decision": "maybe"},
                      format="json").status_code == 400
    with django_capture_on_commit_callbacks(execute=True):
        resp = admin.post(f"/api/v1/researcher-applications/{app_id}/decision/", {"decision": "approve"},
                          format="json")
    assert resp.status_code == 200 and resp.json()["status"] == "approved"
    assert is_researcher(user.__class__.objects.get(pk=user.pk))
    assert len(mailoutbox) == 1 and mailoutbox[0].to == ["r@example.org"] and "approved" in mailoutbox[0].subject
    assert admin.post(f"/api/v1/researcher-applications/{app_id}/decision/", {"decision": "refuse", "reason": "x"},
                      format="json").status_code == 409
    assert admin.post("/api/v1/researcher-applications/99999/decision/", {"decision": "approve"},
                      format="json").status_code == 404


def test_refusal_needs_a_reason_and_is_mailed(make_user, client_for, release_admin, mailoutbox,
                                              django_capture_on_commit_callbacks):
    from facecommons.releases.services import application_submit

    user = make_user(email="r2@example.org")
    app = application_submit(user=user, name="R", institution="U", purpose="Auditing face detectors for bias.",
                             agreement_version=1)
    admin = client_for(release_admin)
    url = f"/api/v1/researcher-applications/{app.pk}/decision/"
    no_reason = admin.post(url, {"decision": "refuse"}, format="json")
    assert no_reason.status_code == 400 and no_reason.json()["error"]["code"] == "reason_required"
    with django_capture_on_commit_callbacks(execute=True):
        resp = admin.post(url, {"decision": "refuse", "reason": "Purpose is commercial identification."},
                          format="json")
    assert resp.json()["status"] == "refused"
    assert "commercial identification" in mailoutbox[0].body
    # A refused applicant may apply again.
    application_submit(user=user, name="R", institution="U", purpose="Auditing face detectors for bias, again.",
                       agreement_version=1)


def test_admin_decides_in_django_admin(make_user, release_admin, client, mailoutbox,
                                      django_capture_on_commit_callbacks):
    from facecommons.releases.models import ResearcherApplication
    from facecommons.releases.services import application_submit

    user = make_user(email="r3@example.org")
    app = application_submit(user=user, name="R", institution="U", purpose="Auditing face detectors for bias.",
                             agreement_version=1)
    client.force_login(release_admin)
    with django_capture_on_commit_callbacks(execute=True):
        resp = client.post(f"/admin/releases/researcherapplication/{app.pk}/change/",
                           {"status": "approved", "reason": ""})
    assert resp.status_code == 302
    assert ResearcherApplication.objects.get(pk=app.pk).status == "approved"
    assert mailoutbox and mailoutbox[0].to == ["r3@example.org"]
    for model in ("snapshot", "download", "researchertoken", "dataUseagreement".lower(), "withdrawal", "subject",
                  "snapshotentry", "agreementacceptance", "researchernotice", "researcherapplication"):
        assert client.get(f"/admin/releases/{model}/").status_code == 200, model


def test_tokens_on_the_research_page_are_shown_once(researcher, client):
    from facecommons.releases.models import ResearcherToken

    client.force_login(researcher)
    assert client.post("/research/tokens/", {"name": ""}).status_code == 302
    assert not ResearcherToken.objects.exists()
    client.post("/research/tokens/", {"name": "cluster"})
    token = ResearcherToken.objects.get()
    page = client.get("/research/").content.decode()
    assert 'id="new-token"' in page and token.prefix in page
    import re

    key = re.search(r'id="new-token">([^<]+)<', page).group(1)
    assert key.startswith("fcr_") and len(key) > 30
    assert 'id="new-token"' not in client.get("/research/").content.decode()
    client.post(f"/research/tokens/{token.pk}/revoke/")
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_research_page_apply_and_accept_flow(make_user, client):
    from django.utils import timezone

    from facecommons.releases.models import DataUseAgreement, ResearcherApplication

    user = make_user(email="r4@example.org")
    client.force_login(user)
    page = client.get("/research/").content.decode()
    assert 'id="apply-form"' in page and "data-use agreement" in page.lower()
    client.post("/research/apply/", {"name": "N", "institution": "I", "purpose": "Bias audits of face detectors.",
                                     "agreement_version": 1, "accept_agreement": "on"})
    assert ResearcherApplication.objects.get(user=user).status == "pending"
    DataUseAgreement.objects.create(version=2, text="v2", published_at=timezone.now())
    page = client.get("/research/").content.decode()
    assert 'id="accept-agreement"' in page
    client.post("/research/agreement/", {"version": 2, "accept": "on"})
    assert "You accepted this version" in client.get("/research/").content.decode()
    assert client.post("/research/agreement/", {"version": "x"}).status_code == 302


def test_non_researchers_cannot_make_tokens_or_download_on_pages(make_user, client):
    user = make_user(email="c@example.org")
    client.force_login(user)
    assert client.post("/research/tokens/", {"name": "t"}).status_code == 403
    assert client.get("/research/snapshots/2026.01.0/download/").status_code == 404


def test_build_api_and_page(make_dataset, release_admin, client_for, make_user, client, django_capture_on_commit_callbacks):
    from facecommons.releases.models import Snapshot

    make_dataset(3)
    assert client_for(make_user(email="x@example.org")).post("/api/v1/snapshots/", {}, format="json").status_code == 403
    admin = client_for(release_admin)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        resp = admin.post("/api/v1/snapshots/", {"note": "first"}, format="json")
    assert resp.status_code == 202
    body = resp.json()
    assert body["status"] == "pending" and body["progress"]["percent"] == 0.0
    assert len(callbacks) == 1  # the build is enqueued after commit
    assert admin.post("/api/v1/snapshots/", {}, format="json").status_code == 409
    assert admin.post("/api/v1/snapshots/", {"purge_of": "nope"}, format="json").status_code in (400, 409)
    client.force_login(release_admin)
    page = client.get("/snapshots/").content.decode()
    assert "build-progress" in page and body["version"] in page
    progress = client.get(f"/snapshots/{body['version']}/progress/").json()
    assert progress["status"] == "pending"
    # The task itself (run synchronously) publishes it.
    from facecommons.releases.tasks import snapshot_build_task

    assert snapshot_build_task(Snapshot.objects.get(version=body["version"]).pk) == body["version"]
    assert client.get(f"/snapshots/{body['version']}/progress/").json()["percent"] == 100.0
    page = client.get("/snapshots/").content.decode()
    assert 'id="build-form"' in page


def test_scheduled_build_exists_disabled():
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(task="facecommons.releases.tasks.snapshot_scheduled_task")
    assert task.enabled is False and task.queue == "releases"


def test_tasks_route_to_the_releases_queue():
    from config.celery_app import app

    route = app.amqp.router.route({}, "facecommons.releases.tasks.snapshot_build_task")
    assert route["queue"].name == "releases"
