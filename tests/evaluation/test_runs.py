"""Runs end to end on the current approved set: a known gap is found, the cache is used,
a dead worker's run resumes, one run per scope, alerts."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction

from facecommons.evaluation import services
from facecommons.evaluation.models import EvaluationChunk, EvaluationRun, MetricResult, ModelResult
from tests.evaluation.conftest import register_fake

pytestmark = pytest.mark.django_db


def metric(run, model, name, category, value):
    return MetricResult.objects.get(run=run, model_id=model, metric=name, category=category, value=value)


def _population(approved_photo, make_user, *, women=20, men=20, drop_women=10):
    """``women`` photos of dark-skinned women, of which ``drop_women`` carry the drop marker,
    and ``men`` of light-skinned men; two photos per person."""
    i = 0
    for k in range(women // 2):
        owner = make_user()
        for _ in range(2):
            approved_photo(i, owner=owner, mark=i < drop_women, categories={
                "gender": "woman", "skin_tone": "9", "ethnicity": ["black"], "age_range": "25_34"})
            i += 1
    for k in range(men // 2):
        owner = make_user()
        for _ in range(2):
            approved_photo(i, owner=owner, categories={
                "gender": "man", "skin_tone": "2", "ethnicity": ["white"], "age_range": "25_34"})
            i += 1


def test_dropped_faces_show_as_gap_within_its_interval(approved_photo, make_user, fake_models, client, mailoutbox,
                                                      django_capture_on_commit_callbacks):
    make_user(role="admin", email="admin@example.org")
    _population(approved_photo, make_user)  # half of the women's faces dropped
    with django_capture_on_commit_callbacks(execute=True):
        call_command("evaluate", models="test-drop", stdout=__import__("io").StringIO())
    run = EvaluationRun.objects.get()
    assert run.status == "done" and run.items_total == 40
    w = metric(run, "test-drop", "detection_rate", "gender", "woman")
    m = metric(run, "test-drop", "detection_rate", "gender", "man")
    assert (w.estimate, w.n, m.estimate, m.n) == (0.5, 20, 1.0, 20)
    assert w.ci_low < 0.5 < w.ci_high
    gap = metric(run, "test-drop", "detection_gap", "gender", "*")
    assert gap.estimate == pytest.approx(0.5)
    assert gap.ci_low <= 0.5 <= gap.ci_high and gap.ci_low > 0.1  # the gap holds up
    inter = metric(run, "test-drop", "detection_rate", "gender&skin_tone", "gender=woman&skin_tone=9")
    assert inter.estimate == 0.5

    # The alert: stored once, banner on the dashboard, one e-mail to the admins.
    assert any(a["metric"] == "detection_gap" and a["category"] == "gender" for a in run.alerts)
    assert len(mailoutbox) == 1 and "admin@example.org" in mailoutbox[0].to
    assert services.alert_notify(run_id=run.pk) is False  # once per run
    assert len(mailoutbox) == 1

    page = client.get("/dashboard/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Gap beyond the configured limit" in html and "<svg" in html
    assert "0.5 [" in html  # the women's rate with its interval in the table

    data = client.get(f"/dashboard/runs/{run.pk}.json").json()
    row = next(r for r in data["rows"] if r["metric"] == "detection_rate" and r["value"] == "woman")
    assert row["estimate"] == 0.5 and row["ci_low"] < 0.5 < row["ci_high"]
    csv_text = client.get(f"/dashboard/runs/{run.pk}.csv").content.decode()
    assert "test-drop" in csv_text.splitlines()[1]
    svg = client.get(f"/dashboard/runs/{run.pk}/charts/test-drop/rates-gender.svg")
    assert svg.status_code == 200 and svg["Content-Type"] == "image/svg+xml" and b"<svg" in svg.content
    png = client.get(f"/dashboard/runs/{run.pk}/charts/test-drop/rates-gender.png")
    assert png.content[:8] == b"\x89PNG\r\n\x1a\n"
    assert client.get(f"/dashboard/runs/{run.pk}/charts/test-drop/nonsense.svg").status_code == 404
    assert client.get(f"/dashboard/runs/{run.pk}.xml").status_code == 404
    assert client.get("/dashboard/?run=abc").status_code == 404


def test_second_run_computes_only_new_photos(approved_photo, make_user, fake_models):
    owner = make_user()
    for i in range(6):
        approved_photo(i, owner=owner)
    call_command("evaluate", models="test-count", stdout=__import__("io").StringIO())
    assert fake_models["count"].calls == 6
    first = EvaluationRun.objects.get()
    assert (first.computed, first.reused) == (6, 0)

    approved_photo(100, owner=owner)
    call_command("evaluate", models="test-count", stdout=__import__("io").StringIO())
    assert fake_models["count"].calls == 7  # only the new photo went through the model
    second = EvaluationRun.objects.latest("created_at")
    assert (second.computed, second.reused) == (1, 6)
    assert ModelResult.objects.filter(model_id="test-count").count() == 7


def test_run_resumes_after_a_worker_died(approved_photo, make_user, fake_models):
    owner = make_user()
    for i in range(6):
        approved_photo(i, owner=owner)
    run = services.evaluation_run_start(models=["test-count"], size=2)
    chunks = list(run.chunks.order_by("index"))
    assert len(chunks) == 3
    assert services.chunk_claim(chunk_id=chunks[0].pk)
    services.chunk_process(chunk_id=chunks[0].pk)
    # A worker claims chunk 1 and dies: its lease blocks others until it expires.
    assert services.chunk_claim(chunk_id=chunks[1].pk)
    assert not services.chunk_claim(chunk_id=chunks[1].pk)
    EvaluationChunk.objects.filter(pk=chunks[1].pk).update(lease_expires_at=None)  # the lease ran out
    assert fake_models["count"].calls == 2
    call_command("evaluate", "--resume", stdout=__import__("io").StringIO())
    run.refresh_from_db()
    assert run.status == "done" and run.chunks_done == 3
    assert fake_models["count"].calls == 6  # chunk 0 was not redone
    assert not services.chunk_claim(chunk_id=chunks[0].pk)  # done chunks are never claimed again
    assert services.chunk_process(chunk_id=chunks[0].pk) is False


def test_one_active_run_per_scope(approved_photo, fake_models):
    approved_photo(1)
    run = services.evaluation_run_start(models=["test-count"])
    with pytest.raises(services.RunAlreadyActive):
        services.evaluation_run_start(models=["test-count"])
    # The database refuses it too, whoever writes.
    with pytest.raises(IntegrityError), transaction.atomic():
        EvaluationRun.objects.create(scope="current", scope_key="current", status="running")
    services.run_fail(run_id=run.pk, error="test")
    assert services.evaluation_run_start(models=["test-count"]).pk != run.pk


def test_unknown_model_and_empty_scope_are_clear_errors(approved_photo, fake_models):
    with pytest.raises(services.EvaluationError, match="Nothing to evaluate"):
        services.evaluation_run_start(models=["test-count"])
    approved_photo(1)
    with pytest.raises(services.EvaluationError, match="Unknown model 'nope'"):
        services.evaluation_run_start(models=["nope"])


def test_unavailable_detector_is_reported(approved_photo, fake_models):
    from ml.detectors import DetectorUnavailable

    def broken(**kw):
        raise DetectorUnavailable("weights file Resnet50_Final.pth is not installed")

    # The registry knows the weights are missing without building the model.
    register_fake("test-broken", "detector", broken,
                  missing=lambda: "weights file Resnet50_Final.pth is not installed")
    approved_photo(1)
    out = __import__("io").StringIO()
    call_command("evaluate", models="test-count,test-broken", stdout=out)
    assert "test-broken: not available: weights file Resnet50_Final.pth is not installed" in out.getvalue()
    run = EvaluationRun.objects.get()
    assert run.unavailable == [{"id": "test-broken", "message": "weights file Resnet50_Final.pth is not installed"}]


def test_enhanced_variant_is_evaluated_and_effect_reported(approved_photo, make_user, fake_models, astronaut_image):
    """Dark photos whose original the detector misses (marked) but whose enhanced copy it finds."""
    from facecommons.common.storage import storage_save_bytes
    from facecommons.contributions.models import ContributionFile
    from tests.evaluation.conftest import face_jpeg

    for i in range(12):
        c = approved_photo(i, mark=i < 6, categories={"gender": "woman"})
        enhanced = face_jpeg(astronaut_image, 1000 + i)  # no mark: found
        import hashlib

        sha = hashlib.sha256(enhanced).hexdigest()
        key = storage_save_bytes(f"enhanced/{sha}.jpg", enhanced)
        ContributionFile.objects.create(contribution=c, variant="enhanced", key=key, sha256=sha, width=512, height=512)
    call_command("evaluate", models="test-drop", stdout=__import__("io").StringIO())
    run = EvaluationRun.objects.get()
    eff = metric(run, "test-drop", "enhancement_effect", "gender", "woman")
    assert eff.estimate == pytest.approx(0.5) and eff.n == 12
    assert metric(run, "test-drop", "detection_rate_enhanced", "gender", "woman").estimate == 1.0
    assert fake_models["drop"].calls == 24  # original and enhanced, each once


def test_verification_per_group_pairs(approved_photo, make_user, fake_models):
    """Two subjects per group, three photos each, distinct colours: every genuine pair matches,
    no impostor does; pair counts are known."""
    colours = [(250, 250, 0), (0, 250, 250), (250, 0, 250), (0, 0, 0)]
    i = 0
    for s, colour in enumerate(colours):
        owner = make_user()
        for _ in range(3):
            approved_photo(i, owner=owner, colour=colour, categories={"gender": "woman" if s < 2 else "man"})
            i += 1
    from django.test import override_settings

    with override_settings(EVAL_MIN_GROUP_SIZE=3):
        call_command("evaluate", models="test-verifier", stdout=__import__("io").StringIO())
    run = EvaluationRun.objects.get()
    fmr = metric(run, "test-verifier", "fmr@usual", "gender", "woman")
    fnmr = metric(run, "test-verifier", "fnmr@usual", "gender", "woman")
    assert (fmr.estimate, fmr.n) == (0.0, 9)  # 3 x 3 impostor pairs within the group
    assert (fnmr.estimate, fnmr.n) == (0.0, 6)  # 2 subjects x 3 genuine pairs
    overall = metric(run, "test-verifier", "fmr@usual", "all", "all")
    assert overall.n == 66 - 12  # C(12, 2) minus the genuine pairs
    assert metric(run, "test-verifier", "threshold@usual", "all", "all").estimate == 0.1
    assert MetricResult.objects.filter(run=run, metric="threshold@target").exists()
    assert MetricResult.objects.filter(run=run, metric="fdr@usual", category="gender").exists()
    assert run.summary["models"]["test-verifier"]["genuine_pairs"] == 12


def test_celery_tasks_fan_out_finalise_once_and_resume(approved_photo, make_user, fake_models, monkeypatch,
                                                       django_capture_on_commit_callbacks):
    """The task path: chunk tasks claim and process; the last one enqueues the metrics exactly
    once; the resume pass re-enqueues a chunk whose worker died (lease expired)."""
    from datetime import timedelta

    from django.utils import timezone

    from facecommons.evaluation import tasks

    owner = make_user()
    for i in range(6):
        approved_photo(i, owner=owner)
    run = services.evaluation_run_start(models=["test-count"], size=2)
    finalise_calls, chunk_calls = [], []
    monkeypatch.setattr(tasks.evaluation_finalise, "delay", lambda run_id: finalise_calls.append(run_id))
    monkeypatch.setattr(tasks.evaluation_chunk, "delay", lambda cid: chunk_calls.append(cid))
    with django_capture_on_commit_callbacks(execute=True):
        tasks.enqueue_run(run.pk)
    chunks = list(run.chunks.order_by("index").values_list("pk", flat=True))
    assert chunk_calls == chunks

    with django_capture_on_commit_callbacks(execute=True):
        tasks.evaluation_chunk(chunks[0])
        tasks.evaluation_chunk(chunks[0])  # a duplicate delivery does nothing
        # chunk 1: a worker claimed it and died (its lease is now in the past)
        assert services.chunk_claim(chunk_id=chunks[1])
        EvaluationChunk.objects.filter(pk=chunks[1]).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
        tasks.evaluation_chunk(chunks[2])
    assert finalise_calls == [] and fake_models["count"].calls == 4
    chunk_calls.clear()
    tasks.evaluation_resume()
    assert chunk_calls == [chunks[1]]
    tasks.evaluation_resume()  # the beat runs every 10 s: not sent again while that message waits
    assert chunk_calls == [chunks[1]]
    with django_capture_on_commit_callbacks(execute=True):
        tasks.evaluation_chunk(chunks[1])
    assert finalise_calls == [run.pk]  # enqueued once, by the task that finished the last chunk
    tasks.evaluation_finalise(run.pk)
    run.refresh_from_db()
    assert run.status == "done" and fake_models["count"].calls == 6
    overall = metric(run, "test-count", "detection_rate", "all", "all")
    assert overall.n == 6 and overall.insufficient  # 6 photos: under the minimum group size (10 here)


def test_a_chunk_taken_over_mid_way_stops_without_failing_the_run(approved_photo, make_user, fake_models, settings,
                                                                  monkeypatch):
    """The chunk's heartbeat finds its claim gone (another worker took the chunk after a stall):
    the task stops quietly; the chunk stays with its new owner and the run is not failed."""
    import time

    from django.utils import timezone

    from facecommons.evaluation import tasks

    settings.EVAL_CHUNK_LEASE_SECONDS = 1  # beats every third of a second
    owner = make_user()
    for i in range(4):
        approved_photo(i, owner=owner)
    run = services.evaluation_run_start(models=["test-count"], size=4)
    chunk = run.chunks.get()
    detect = fake_models["count"].detect

    def stalled_then_taken_over(self, image):
        if type(self).calls == 0:
            time.sleep(1.1)  # longer than the lease: a rival worker claims the chunk meanwhile
            EvaluationChunk.objects.filter(pk=chunk.pk).update(lease_expires_at=timezone.now())
            assert services.chunk_claim(chunk_id=chunk.pk) is not None
        return detect(self, image)

    monkeypatch.setattr(fake_models["count"], "detect", stalled_then_taken_over)
    tasks.evaluation_chunk(chunk.pk)
    chunk.refresh_from_db()
    run.refresh_from_db()
    assert chunk.status == "pending" and chunk.attempts == 2  # the rival's claim stands
    assert fake_models["count"].calls == 1  # stopped at the first photo after the takeover
    assert run.status == "running" and not run.error
