"""API shape and permissions, the beat schedule, snapshot scope and its publication hook."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from facecommons.evaluation.models import EvaluationRun, ModelResult

pytestmark = pytest.mark.django_db

RUN_KEYS = {"id", "scope", "snapshot", "started_at", "finished_at", "models"}
MODEL_KEYS = {"id", "version", "task", "metrics"}
METRIC_KEYS = {"category", "value", "metric", "estimate", "n", "ci_low", "ci_high"}


def test_beat_schedule_exists_after_migrations():
    from django_celery_beat.models import PeriodicTask

    from config.celery_app import app
    from facecommons.evaluation import tasks

    nightly = PeriodicTask.objects.get(task="facecommons.evaluation.tasks.evaluation_nightly")
    assert nightly.enabled and nightly.crontab is not None and nightly.queue == "evaluation"
    assert (nightly.crontab.minute, nightly.crontab.hour) == ("15", "2")
    resume = PeriodicTask.objects.get(task="facecommons.evaluation.tasks.evaluation_resume")
    assert resume.enabled and resume.interval.every == 10
    # The names resolve to real tasks, routed to the evaluation queue.
    assert tasks.evaluation_nightly.name == nightly.task and tasks.evaluation_resume.name == resume.task
    assert app.amqp.router.route({}, tasks.evaluation_chunk.name)["queue"].name == "evaluation"


def _finished_run(approved_photo, make_user, n=14):
    owner = make_user()
    for i in range(n):
        approved_photo(i, owner=owner if i % 2 else None,
                       categories={"gender": "woman" if i < n - 3 else "man", "skin_tone": "5"})
    call_command("evaluate", models="test-count", stdout=io.StringIO())
    return EvaluationRun.objects.latest("created_at")


def test_api_shape_and_small_count_protection(approved_photo, make_user, fake_models, api_client):
    run = _finished_run(approved_photo, make_user)
    for url in ("/api/v1/evaluations/latest/", f"/api/v1/evaluations/{run.pk}/"):
        resp = api_client.get(url)  # public: no credentials
        assert resp.status_code == 200, resp.content
        body = resp.json()
        assert set(body) == RUN_KEYS
        assert body["scope"] == "current" and body["snapshot"] is None and body["finished_at"]
        assert [set(m) for m in body["models"]] == [MODEL_KEYS]
        model = body["models"][0]
        assert (model["id"], model["version"], model["task"]) == ("test-count", "1", "detection")
        assert all(set(x) == METRIC_KEYS for x in model["metrics"])
        rows = {(x["metric"], x["category"], x["value"]): x for x in model["metrics"]}
        woman = rows[("detection_rate", "gender", "woman")]
        assert (woman["estimate"], woman["n"]) == (1.0, 11)
        man = rows[("detection_rate", "gender", "man")]  # 3 photos: under STATS_MIN_COUNT (5)
        assert (man["estimate"], man["n"], man["ci_low"], man["ci_high"]) == (None, None, None, None)
    listing = api_client.get("/api/v1/evaluations/").json()
    assert listing["count"] == 1 and set(listing["results"][0]) == RUN_KEYS
    assert api_client.get("/api/v1/evaluations/999999/").status_code == 404
    page = api_client.get("/dashboard/").content.decode()
    assert "fewer than 5" in page


def test_latest_without_runs_is_404(api_client):
    resp = api_client.get("/api/v1/evaluations/latest/")
    assert resp.status_code == 404 and resp.json()["error"]["code"] == "not_found"
    assert api_client.get("/dashboard/").status_code == 200


def test_starting_a_run_is_admin_only(approved_photo, make_user, fake_models, api_client, client_for):
    approved_photo(1)
    assert api_client.post("/api/v1/evaluations/", {"models": ["test-count"]}, format="json").status_code in (401, 403)
    contributor = client_for(make_user())
    resp = contributor.post("/api/v1/evaluations/", {"models": ["test-count"]}, format="json")
    assert resp.status_code == 403 and "error" in resp.json()
    admin = client_for(make_user(role="admin"))
    bad = admin.post("/api/v1/evaluations/", {"scope": "galaxy"}, format="json")
    assert bad.status_code == 400 and "scope" in bad.json()["error"]["fields"]
    bad = admin.post("/api/v1/evaluations/", {"scope": "snapshot"}, format="json")
    assert bad.status_code == 400 and "snapshot" in bad.json()["error"]["fields"]
    bad = admin.post("/api/v1/evaluations/", {"models": ["nope"]}, format="json")
    assert bad.status_code == 400 and "Unknown model" in bad.json()["error"]["message"]
    ok = admin.post("/api/v1/evaluations/", {"models": ["test-count"]}, format="json")
    assert ok.status_code == 202 and ok.json()["items"] == 1
    again = admin.post("/api/v1/evaluations/", {"models": ["test-count"]}, format="json")
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_running"


def test_snapshot_scope_and_publication_hook(approved_photo, make_user, fake_models, monkeypatch,
                                             django_capture_on_commit_callbacks):
    from facecommons.evaluation import tasks
    from facecommons.releases.models import Snapshot, SnapshotEntry
    from facecommons.releases.state import snapshot_transition

    started = []
    monkeypatch.setattr(tasks.evaluation_start, "delay", lambda *a, **kw: started.append((a, kw)))
    photos = [approved_photo(i) for i in range(4)]
    snap = Snapshot.objects.create(version="2026.11.1", cutoff_at=timezone.now())
    for k, c in enumerate(photos[:3]):
        SnapshotEntry.objects.create(snapshot=snap, contribution_id=c.pk, subject_id=f"s-{k}", split="test",
                                     sha256=c.sha256, file_name=f"images/{c.sha256}.jpg")
    # Only the publication starts a run (snapshot_published, on commit), not other transitions.
    with django_capture_on_commit_callbacks(execute=True):
        snapshot_transition(snapshot_id=snap.pk, to="building")
    assert started == []
    with django_capture_on_commit_callbacks(execute=True):
        snapshot_transition(snapshot_id=snap.pk, to="published")
    assert started == [(("snapshot",), {"snapshot_version": "2026.11.1", "trigger": "snapshot"})]

    call_command("evaluate", "--snapshot", "2026.11.1", "--models", "test-count", stdout=io.StringIO())
    run = EvaluationRun.objects.get(scope="snapshot")
    assert run.items_total == 3 and run.snapshot_version == "2026.11.1"
    assert set(run.items.values_list("subject", flat=True)) == {"s-0", "s-1", "s-2"}
    from rest_framework.test import APIClient

    assert APIClient().get(f"/api/v1/evaluations/{run.pk}/").json()["snapshot"] == "2026.11.1"


def test_deleting_a_contribution_forgets_its_cached_results(approved_photo, fake_models):
    from facecommons.contributions.services import contribution_delete

    c = approved_photo(1)
    call_command("evaluate", models="test-count", stdout=io.StringIO())
    assert ModelResult.objects.filter(content_sha256=c.sha256).count() == 1
    contribution_delete(contribution=c)
    assert not ModelResult.objects.filter(content_sha256=c.sha256).exists()


def test_nightly_task_starts_current_and_newest_snapshot(monkeypatch):
    from facecommons.evaluation import services, tasks

    started = []
    monkeypatch.setattr(tasks.evaluation_start, "delay", lambda *a, **kw: started.append((a, kw)))
    monkeypatch.setattr(services, "latest_published_snapshot_version", lambda: "2026.11.2")
    tasks.evaluation_nightly()
    assert started == [(("current",), {"trigger": "schedule"}),
                       (("snapshot",), {"snapshot_version": "2026.11.2", "trigger": "schedule"})]


def test_admin_pages_of_every_model_load(approved_photo, make_user, fake_models, client):
    _finished_run(approved_photo, make_user)
    admin = make_user(role="admin")
    client.force_login(admin)
    for model in ("externalsource", "externalimage", "modelresult", "evaluationrun", "evaluationitem",
                  "evaluationchunk", "metricresult", "curveresult"):
        assert client.get(f"/admin/evaluation/{model}/").status_code == 200, model
    run = EvaluationRun.objects.get()
    assert client.get(f"/admin/evaluation/evaluationrun/{run.pk}/change/").status_code == 200


def test_admins_start_an_evaluation_from_the_dashboard(approved_photo, make_user, fake_models, client):
    """The dashboard's form does what POST /evaluations/ does, for administrators only."""
    approved_photo(1)
    assert 'action="/dashboard/start/"' not in client.get("/dashboard/").content.decode()  # anonymous: no form
    assert client.post("/dashboard/start/", {"scope": "current", "models": ["test-count"]}).status_code == 403
    client.force_login(make_user())
    assert 'action="/dashboard/start/"' not in client.get("/dashboard/").content.decode()
    assert client.post("/dashboard/start/", {"scope": "current", "models": ["test-count"]}).status_code == 403
    assert not EvaluationRun.objects.exists()
    client.force_login(make_user(role="admin"))
    page = client.get("/dashboard/").content.decode()
    assert 'action="/dashboard/start/"' in page and 'value="test-count"' in page
    resp = client.post("/dashboard/start/", {"scope": "snapshot"}, follow=True)
    assert "Choose the snapshot to evaluate." in resp.content.decode() and not EvaluationRun.objects.exists()
    resp = client.post("/dashboard/start/", {"scope": "current", "models": ["test-count"]}, follow=True)
    run = EvaluationRun.objects.get()
    assert (run.scope_key, run.trigger, run.items_total) == ("current", "web", 1)
    assert f"Evaluation {run.pk} has started" in resp.content.decode()
    again = client.post("/dashboard/start/", {"scope": "current", "models": ["test-count"]}, follow=True)
    assert "still running" in again.content.decode() and EvaluationRun.objects.count() == 1
