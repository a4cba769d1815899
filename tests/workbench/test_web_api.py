"""The workbench's API and pages: who may use them, starting a run, its page, the comparison."""

from __future__ import annotations

import pytest

from facecommons.workbench import services, training
from facecommons.workbench.models import TrainingRun, TrainingStatus

pytestmark = pytest.mark.django_db


def _done(snapshot, policy, actor=None):
    run = services.training_run_create(snapshot_version=snapshot.version, task="face-vs-background", policy=policy,
                                       epochs=1, actor=actor)
    assert services.training_run_claim(run_id=run.pk)
    return training.training_run_execute(run_id=run.pk)


def test_api_start_is_for_admins_and_researchers(snapshot, make_user, client_for, monkeypatch,
                                                 django_capture_on_commit_callbacks):
    from facecommons.workbench import tasks

    sent = []
    monkeypatch.setattr(tasks.workbench_train, "apply_async", lambda args, **kw: sent.append(args[0]))
    body = {"snapshot": snapshot.version, "task": "face-vs-background", "policy": "skewed",
            "policy_category": "gender&ethnicity", "policy_values": ["gender=man&ethnicity=white"], "seed": 3}
    assert client_for(make_user("contributor")).post("/api/v1/training-runs/", body, format="json").status_code == 403
    researcher = make_user("researcher")
    with django_capture_on_commit_callbacks(execute=True):
        resp = client_for(researcher).post("/api/v1/training-runs/", body, format="json")
    assert resp.status_code == 202, resp.content
    run = TrainingRun.objects.get(pk=resp.json()["id"])
    assert sent == [run.pk] and run.policy["values"] == ["gender=man&ethnicity=white"] and run.seed == 3
    bad = client_for(researcher).post("/api/v1/training-runs/", {**body, "policy_values": []}, format="json")
    assert bad.status_code == 400 and "values" in bad.json()["error"]["message"]
    # A researcher sees their own runs only, and cannot register a model.
    admin_run = services.training_run_create(snapshot_version=snapshot.version, task="category", category="gender",
                                             policy={})
    assert client_for(researcher).get(f"/api/v1/training-runs/{admin_run.pk}/").status_code == 404
    detail = client_for(researcher).get(f"/api/v1/training-runs/{run.pk}/")
    assert detail.status_code == 200 and detail.json()["status"] == "queued"
    assert client_for(researcher).post(f"/api/v1/training-runs/{run.pk}/register/").status_code == 403
    cancel = client_for(researcher).post(f"/api/v1/training-runs/{run.pk}/cancel/")
    assert cancel.status_code == 202 and cancel.json()["status"] == "cancelled"
    assert client_for(researcher).post(f"/api/v1/training-runs/{run.pk}/cancel/").status_code == 409


def test_pages_start_watch_and_compare(snapshot, make_user, client, monkeypatch, django_capture_on_commit_callbacks):
    from facecommons.workbench import tasks

    monkeypatch.setattr(tasks.workbench_train, "apply_async", lambda args, **kw: None)
    admin = make_user("admin")
    client.force_login(admin)
    page = client.get("/workbench/")
    assert page.status_code == 200 and b"2026.11.0" in page.content and b"<script>" not in page.content
    with django_capture_on_commit_callbacks(execute=True):
        resp = client.post("/workbench/", {"snapshot": snapshot.version, "task": "face-vs-background",
                                           "policy": "balanced", "policy_category": "gender", "seed": 0,
                                           "epochs": 1})
    queued = TrainingRun.objects.get()
    assert resp.status_code == 302 and resp["Location"] == f"/workbench/runs/{queued.pk}/"
    watch = client.get(resp["Location"])
    assert watch.status_code == 200 and b'data-active="1"' in watch.content
    skewed = _done(snapshot, {"kind": "skewed", "category": "gender", "values": ["man"]}, admin)
    balanced = _done(snapshot, {"kind": "balanced", "category": "gender"}, admin)
    assert skewed.status == balanced.status == TrainingStatus.DONE
    done_page = client.get(f"/workbench/runs/{skewed.pk}/")
    assert b"miss_rate" in done_page.content and b"Model card" in done_page.content
    cmp = client.get(f"/workbench/compare/?runs={skewed.pk},{balanced.pk}&category=gender")
    assert cmp.status_code == 200
    html = cmp.content.decode()
    assert "woman" in html and "difference" in html and "style=" not in html
    assert client.get("/workbench/compare/?runs=abc").status_code == 404
    reg = client.post(f"/workbench/runs/{skewed.pk}/register/", {"model_id": "skewed-men-detector"})
    assert reg.status_code == 302
    skewed.refresh_from_db()
    assert skewed.registered_model_id == "skewed-men-detector"
    contributor = make_user("contributor")
    client.force_login(contributor)
    assert client.get("/workbench/").status_code == 403
