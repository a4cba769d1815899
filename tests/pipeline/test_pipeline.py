"""The pipeline for one photo, run in-process against the real database and private storage."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.utils import timezone

from facecommons.common.models import AuditEvent
from facecommons.common.storage import private_storage
from facecommons.contributions.models import Contribution, ContributionFile
from facecommons.pipeline.analysis import Thresholds
from facecommons.pipeline.findings import FINDING_MESSAGES
from facecommons.pipeline.models import PhotoAnalysis
from facecommons.pipeline.services import ClaimBusy, pipeline_claim, pipeline_process, pipeline_stuck_ids
from tests.factories import make_contribution
from tests.pipeline import images

FINAL = ("awaiting_review", "awaiting_contributor", "rejected", "failed")


def _final_events(c: Contribution) -> list[AuditEvent]:
    return [e for e in AuditEvent.objects.filter(object_id=str(c.pk)) if e.after.get("status") in FINAL]


@pytest.fixture
def contributor(make_user):
    return make_user()


@pytest.mark.django_db
def test_astronaut_passes_with_one_face_and_derived_files(contributor):
    c = make_contribution(contributor, status="received", image=images.jpeg(images.astronaut(1)))
    assert pipeline_process(contribution_id=str(c.pk)) == "done"
    c.refresh_from_db()
    assert c.status == "awaiting_review" and not c.rejection_code
    a = c.analysis
    assert a.verdict_code == "review" and a.findings == [] and a.detector_id == "retinaface-mobilenet" and a.detector_version
    assert len(a.detections_original) == 1 and a.face["count"] == 1 and len(a.face["landmarks"]) == 5
    assert a.face["score"] >= 0.9 and a.sharpness and a.sharpness >= Thresholds().min_sharpness
    assert a.lowlight["is_low_light"] is False and not a.enhanced
    assert {"decode", "detect", "total"} <= set(a.timings_ms)
    assert a.attempts == 1 and a.finished_at and a.lease_expires_at is None
    files = {f.variant: f for f in c.files.all()}
    assert set(files) == {"original", "thumbnail", "crop", "crop224"}
    assert (files["crop"].width, files["crop224"].width, max(files["thumbnail"].width, files["thumbnail"].height)) == (112, 224, 320)
    storage = private_storage()
    for f in files.values():
        assert storage.exists(f.key) and f.sha256 in f.key  # content-addressed
    actions = list(AuditEvent.objects.filter(object_id=str(c.pk)).order_by("id").values_list("action", flat=True))
    assert actions[-2:] == ["pipeline_started", "pipeline_passed"]
    # A second run finds a judged photo and changes nothing.
    assert pipeline_process(contribution_id=str(c.pk)) == "skipped"
    assert c.files.count() == 4 and len(_final_events(c)) == 1


@pytest.mark.django_db
def test_no_face_waits_for_the_contributor(contributor):
    c = make_contribution(contributor, status="received", image=images.jpeg(images.coffee()))
    assert pipeline_process(contribution_id=str(c.pk)) == "done"
    c.refresh_from_db()
    # Not queued, not rejected: the contributor deletes, retakes or asks a person.
    assert c.status == "awaiting_contributor" and not c.rejection_code
    assert c.analysis.verdict_code == "await_contributor" and c.analysis.findings == ["no_face"]
    # No face, so no biometric crops; the thumbnail is kept for the contributor.
    assert set(c.files.values_list("variant", flat=True)) == {"original", "thumbnail"}
    actions = list(AuditEvent.objects.filter(object_id=str(c.pk)).order_by("id").values_list("action", flat=True))
    assert actions[-1] == "pipeline_awaiting_contributor"


@pytest.mark.django_db
def test_two_clear_faces_are_rejected_with_the_finding_sentence(contributor):
    c = make_contribution(contributor, status="received", image=images.jpeg(images.two_faces()))
    assert pipeline_process(contribution_id=str(c.pk)) == "done"
    c.refresh_from_db()
    assert c.status == "rejected" and c.rejection_code == "multiple_faces"
    assert c.rejection_message == str(FINDING_MESSAGES["multiple_faces"])
    assert c.analysis.verdict_code == "reject" and "multiple_faces" in c.analysis.findings
    assert set(c.files.values_list("variant", flat=True)) == {"original", "thumbnail"}


@pytest.mark.django_db
def test_quality_findings_go_to_review_as_flags(contributor):
    import cv2

    small = cv2.resize(images.astronaut(2), (300, 300), interpolation=cv2.INTER_AREA)  # face ~55 px
    c1 = make_contribution(contributor, status="received", image=images.jpeg(small))
    blurry = cv2.GaussianBlur(images.astronaut(3), (0, 0), 3)
    c2 = make_contribution(contributor, status="received", image=images.jpeg(blurry))
    # The face cut by the left edge: the astronaut's face spans about x 150-260.
    cut = make_contribution(contributor, status="received", image=images.jpeg(images.astronaut(8)[:, 200:]))
    for c in (c1, c2, cut):
        pipeline_process(contribution_id=str(c.pk))
        c.refresh_from_db()
        assert c.status == "awaiting_review" and c.analysis.verdict_code == "review", c.analysis.findings
        # A face was found: the crops are made, for moderators to judge.
        assert {"crop", "crop224"} <= set(c.files.values_list("variant", flat=True))
    assert "face_small" in c1.analysis.findings
    assert "soft" in c2.analysis.findings
    assert "face_cut_off" in cut.analysis.findings, cut.analysis.face
    assert "face_cut_off" not in c1.analysis.findings + c2.analysis.findings


@pytest.mark.django_db
def test_nearly_black_photo_is_never_rejected(contributor):
    black = make_contribution(contributor, status="received",
                              image=images.jpeg(images.darkened(images.astronaut(4), 0.0005)))
    pipeline_process(contribution_id=str(black.pk))
    black.refresh_from_db()
    assert black.status in ("awaiting_review", "awaiting_contributor")
    assert "dark" in black.analysis.findings


@pytest.mark.django_db
@pytest.mark.parametrize("lighting, dark, mismatch", [
    ("indoor", False, False), ("night", False, True), ("low_light", True, False), ("daylight_outdoors", True, True),
])
def test_declared_lighting_against_measured_light(contributor, lighting, dark, mismatch):
    from tests.factories import DEFAULT_CATEGORIES

    rgb = images.darkened(images.astronaut(9)) if dark else images.astronaut(9)
    c = make_contribution(contributor, status="received", image=images.jpeg(rgb),
                          categories={**DEFAULT_CATEGORIES, "lighting": lighting})
    pipeline_process(contribution_id=str(c.pk))
    c.refresh_from_db()
    assert c.status == "awaiting_review"
    assert ("lighting_mismatch" in c.analysis.findings) is mismatch, c.analysis.lowlight


@pytest.mark.django_db
def test_dark_photo_is_enhanced_and_passes(contributor):
    c = make_contribution(contributor, status="received", image=images.jpeg(images.darkened(images.astronaut(5))))
    pipeline_process(contribution_id=str(c.pk))
    c.refresh_from_db()
    a = c.analysis
    assert a.lowlight["is_low_light"] is True and a.enhanced and a.enhancer_id
    assert c.status == "awaiting_review", (c.rejection_code, a.face)
    enhanced = c.files.get(variant="enhanced")
    assert (enhanced.width, enhanced.height) == (512, 512)
    # Found on the enhanced copy, and flagged for moderators as the dark photo it is.
    assert a.detections_enhanced and a.face["count"] == 1 and "dark" in a.findings


@pytest.mark.django_db
def test_truncated_file_fails_with_a_reason(contributor):
    c = make_contribution(contributor, status="received", image=images.jpeg(images.astronaut(6)))
    key = c.files.get(variant="original").key
    path = private_storage().path(key)
    with open(path, "r+b") as f:
        f.truncate(4000)
    assert pipeline_process(contribution_id=str(c.pk)) == "failed"
    c.refresh_from_db()
    assert c.status == "failed" and "could not be read" in c.error and "damaged" in c.error
    assert c.analysis.verdict_code == "error" and c.analysis.error == c.error
    assert len(_final_events(c)) == 1


@pytest.mark.django_db
def test_deleted_or_final_contribution_ends_quietly(contributor):
    import uuid

    assert pipeline_process(contribution_id=str(uuid.uuid4())) == "skipped"
    c = make_contribution(contributor, status="approved")
    assert pipeline_process(contribution_id=str(c.pk)) == "skipped"
    assert not PhotoAnalysis.objects.filter(contribution=c).exists()


@pytest.mark.django_db
def test_live_lease_blocks_a_second_claim_and_attempts_are_capped(contributor, settings):
    c = make_contribution(contributor, status="received", image=images.jpeg(images.astronaut(7)))
    first = pipeline_claim(contribution_id=str(c.pk))
    assert first and first.attempt == 1
    with pytest.raises(ClaimBusy):
        pipeline_claim(contribution_id=str(c.pk))
    # Not stuck while the lease is live, stuck once it has expired.
    settings.PIPELINE_STUCK_AFTER_SECONDS = 0
    assert str(c.pk) not in pipeline_stuck_ids()
    PhotoAnalysis.objects.filter(contribution=c).update(lease_expires_at=timezone.now())
    assert str(c.pk) in pipeline_stuck_ids()
    # A run that keeps dying is given up on: failed, with the reason.
    settings.PIPELINE_MAX_ATTEMPTS = 2
    assert pipeline_claim(contribution_id=str(c.pk)).attempt == 2
    PhotoAnalysis.objects.filter(contribution=c).update(lease_expires_at=timezone.now())
    assert pipeline_claim(contribution_id=str(c.pk)) is None
    c.refresh_from_db()
    assert c.status == "failed" and "attempted 2 times" in c.error


@pytest.mark.django_db
def test_stale_claim_cannot_write(contributor):
    from facecommons.pipeline.services import _read_original, pipeline_analyse, pipeline_finish

    c = make_contribution(contributor, status="received", image=images.jpeg(images.astronaut(8)))
    old = pipeline_claim(contribution_id=str(c.pk))
    PhotoAnalysis.objects.filter(contribution=c).update(lease_expires_at=timezone.now())
    new = pipeline_claim(contribution_id=str(c.pk))
    assert old.token != new.token
    result = pipeline_analyse(_read_original(old))
    assert pipeline_finish(claim=old, result=result, stored={}) == "superseded"
    assert pipeline_finish(claim=new, result=result, stored={}) == "done"
    assert len(_final_events(c)) == 1


@pytest.mark.django_db
def test_received_stuck_selection(contributor, settings):
    old = make_contribution(contributor, status="received")
    Contribution.objects.filter(pk=old.pk).update(status_changed_at=timezone.now() - timezone.timedelta(seconds=600))
    fresh = make_contribution(contributor, status="received")
    done = make_contribution(contributor, status="awaiting_review")
    Contribution.objects.filter(pk=done.pk).update(status_changed_at=timezone.now() - timezone.timedelta(seconds=600))
    ids = pipeline_stuck_ids()
    assert str(old.pk) in ids and str(fresh.pk) not in ids and str(done.pk) not in ids


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_concurrent_runs_leave_one_result_set(contributor):
    c = make_contribution(contributor, status="received", image=images.jpeg(images.astronaut(9)))
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    from facecommons.pipeline.tasks import process_contribution

    def run() -> None:
        try:
            barrier.wait()
            # The task itself, executed in this thread (as a worker child would).
            outcomes.append(process_contribution.apply(args=(str(c.pk),)).get())
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(outcomes) in (["busy", "done"], ["done", "skipped"]), outcomes
    c.refresh_from_db()
    assert c.status == "awaiting_review"
    assert ContributionFile.objects.filter(contribution=c).count() == 4
    assert len(_final_events(c)) == 1
    assert PhotoAnalysis.objects.filter(contribution=c).count() == 1


@pytest.mark.django_db
def test_reconciler_schedule_is_registered_by_migration():
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(task="facecommons.pipeline.tasks.reconcile_stuck")
    # Every 10 s (migration 0006): with the 30 s lease a killed worker's photo is retried within a minute.
    assert task.enabled and task.interval.every == 10 and task.interval.period == "seconds"
    assert task.expire_seconds and task.expire_seconds < 10 and task.queue == "default"


@pytest.mark.django_db
def test_upload_event_enqueues_processing(contributor, django_capture_on_commit_callbacks):
    """contribution_received -> pipeline_enqueue -> process_contribution (run eagerly here)."""
    from config.celery_app import app
    from facecommons.contributions.events import contribution_received

    c = make_contribution(contributor, status="received", image=images.jpeg(images.astronaut(10)))
    app.conf.task_always_eager = True
    try:
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            contribution_received.emit(contribution_id=str(c.pk))
    finally:
        app.conf.task_always_eager = False
    assert callbacks  # enqueued on commit, not inside the upload's transaction
    c.refresh_from_db()
    assert c.status == "awaiting_review"


@pytest.mark.django_db
def test_install_detector_weights_command(tmp_path, monkeypatch):
    import json

    import torch
    from django.core.management import CommandError, call_command

    from ml.detectors.retinaface_resnet50 import RetinaFaceResNet50, file_sha256

    monkeypatch.setenv("FACECOMMONS_WEIGHTS_DIR", str(tmp_path / "weights"))
    src = tmp_path / "download.pth"
    torch.save({f"module.{k}": v for k, v in RetinaFaceResNet50().state_dict().items()}, src)
    call_command("install_detector_weights", "retinaface-resnet50", str(src))
    target = tmp_path / "weights" / "Resnet50_Final.pth"
    assert file_sha256(target) == file_sha256(src)
    manifest = json.loads((tmp_path / "weights" / "MANIFEST.json").read_text())
    assert manifest["retinaface-resnet50"]["sha256"] == file_sha256(src)
    bad = tmp_path / "bad.pth"
    torch.save({"module.x": torch.zeros(1)}, bad)
    with pytest.raises(CommandError, match="was not installed"):
        call_command("install_detector_weights", "retinaface-resnet50", str(bad))


@pytest.mark.django_db
def test_unexpected_error_fails_the_photo_with_the_error(contributor, monkeypatch):
    from facecommons.pipeline import services

    def boom(data: bytes, **_kw):
        raise RuntimeError("detector exploded")

    monkeypatch.setattr(services, "pipeline_analyse", boom)
    c = make_contribution(contributor, status="received", image=images.jpeg(images.astronaut(11)))
    assert pipeline_process(contribution_id=str(c.pk)) == "failed"
    c.refresh_from_db()
    assert c.status == "failed" and c.error == "Unexpected error during processing: RuntimeError: detector exploded"


@pytest.mark.django_db
def test_transient_error_is_raised_for_retry_and_releases_the_lease(contributor, monkeypatch):
    from django.db import OperationalError

    from facecommons.pipeline import services

    def flaky(data: bytes, **_kw):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(services, "pipeline_analyse", flaky)
    c = make_contribution(contributor, status="received", image=images.jpeg(images.astronaut(12)))
    with pytest.raises(OperationalError):
        pipeline_process(contribution_id=str(c.pk))
    c.refresh_from_db()
    assert c.status == "processing"  # not failed: the task retries it
    assert c.analysis.lease_expires_at <= timezone.now()
    monkeypatch.undo()
    assert pipeline_process(contribution_id=str(c.pk)) == "done"  # the retry claims it at once
    c.refresh_from_db()
    assert c.status == "awaiting_review" and c.analysis.attempts == 2


def test_task_retries_only_transient_errors():
    from facecommons.pipeline.tasks import process_contribution

    retried = set(process_contribution.autoretry_for)
    assert {e.__name__ for e in retried} == {"OperationalError", "InterfaceError", "ConnectionError", "TimeoutError"}
    assert process_contribution.acks_late and process_contribution.reject_on_worker_lost
    assert process_contribution.soft_time_limit < process_contribution.time_limit
    from facecommons.pipeline.services import lease_seconds

    assert process_contribution.time_limit < lease_seconds()


def test_celery_reliability_settings():
    from django.conf import settings

    from config.celery_app import app

    conf = app.conf
    assert conf.task_acks_late and conf.task_reject_on_worker_lost and conf.worker_prefetch_multiplier == 1
    assert conf.task_soft_time_limit < conf.task_time_limit
    if not conf.broker_url.startswith("filesystem"):
        assert conf.broker_transport_options["visibility_timeout"] > settings.CELERY_LONGEST_TASK_SECONDS


def test_enhanced_copy_is_smoothed_for_the_detector_only(settings):
    """The detector runs on the enhanced copy smoothed by ``for_detection`` (setting
    PIPELINE_ENHANCED_DETECT_SIGMA; 0 = off); the enhanced file people see is not smoothed."""
    import dataclasses

    import numpy as np

    from enhancement import assess
    from enhancement.degrade import darken
    from facecommons.pipeline.analysis import analyse_photo
    from facecommons.pipeline.services import pipeline_detector, thresholds
    from ml.imageio import decode
    from ml.registry import create_model

    settings.PIPELINE_ENHANCED_DETECT_SIGMA = 1.25
    assert thresholds().enhanced_detect_sigma == 1.25
    dark = darken(images.astronaut(), np.random.default_rng(1), light=0.005, photons=400.0, read_sigma=0.002,
                  jpeg_quality=85)
    data = images.jpeg(dark)
    enhancer = create_model("zero-dce++")
    base = dataclasses.replace(thresholds(), min_score=0.3)
    runs = {sigma: analyse_photo(data, detector=pipeline_detector(), enhancer_factory=lambda: enhancer,
                                 assess=assess, thresholds=dataclasses.replace(base, enhanced_detect_sigma=sigma))
            for sigma in (0.0, 2.0)}
    for r in runs.values():
        assert r.enhanced and r.detections_enhanced
    best = {s: max(d.score for d in r.detections_enhanced) for s, r in runs.items()}
    assert best[2.0] > best[0.0], best
    # The enhanced file is the same whether or not the detector's copy was smoothed.
    files = {s: {f.variant: f.data for f in r.files} for s, r in runs.items()}
    assert files[0.0]["enhanced"] == files[2.0]["enhanced"]
    assert decode(files[2.0]["enhanced"]).rgb.shape == dark.shape
