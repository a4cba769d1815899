"""Pipeline services: claim a contribution, process it, store the outcome; reconcile.

The database, not the broker, is the source of truth. A run first *claims* the contribution
under a row lock (``received``/``processing`` -> ``processing``, a fresh claim token and a
lease longer than the task's hard time limit), works without holding any lock, and then
*finishes* under the lock again, writing only if its claim is still the current one. So:

- a duplicate or redelivered message for a photo that is being processed finds a live lease
  and ends quietly; one for a photo already judged or deleted ends quietly too;
- two runs can never both write results: the loser's claim token no longer matches;
- derived files have content-addressed keys and one row per (contribution, variant), so a
  re-run after a crash rewrites the same keys and rows instead of adding new ones;
- a run that dies (SIGKILL, OOM, lost message) leaves ``processing`` with an expiring lease
  (or ``received``): the reconciler re-enqueues it, and after ``PIPELINE_MAX_ATTEMPTS``
  claims the photo is marked ``failed`` instead of being retried forever.

Tunables: the ``PIPELINE_*`` entries of ``facecommons.common.tunables`` (defaults and why there;
the verdict's thresholds default to ``analysis.Thresholds``, where each is calibrated). If the
configured enhancer cannot load, CLAHE runs instead.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from django.core.cache import cache
from django.db import InterfaceError, OperationalError, transaction
from django.db.models import Q
from django.utils import timezone

from enhancement import assess
from facecommons.common.db import atomic_write
from facecommons.common.leases import Lease, lease_claim, lease_expired_q, lease_release, lease_seconds_left
from facecommons.common.queues import task_send
from facecommons.common.storage import private_storage, storage_delete, storage_save_bytes
from facecommons.common.tunables import tunables
from facecommons.contributions.models import Contribution, ContributionFile, ContributionStatus, FileVariant
from facecommons.contributions.services import contribution_transition
from facecommons.pipeline.analysis import (
    FINDINGS,
    LIGHTING_MISMATCH,
    ROUTE_AWAIT_CONTRIBUTOR,
    ROUTE_REVIEW,
    PhotoResult,
    Thresholds,
    analyse_photo,
)
from facecommons.pipeline.findings import FINDING_MESSAGES, declared_low_light
from facecommons.pipeline.models import PhotoAnalysis
from ml.registry import get_model

logger = logging.getLogger(__name__)
S = ContributionStatus

#: Errors worth retrying the task for: the database or a network service was briefly away.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (OperationalError, InterfaceError, ConnectionError, TimeoutError)
DERIVED_VARIANTS = (FileVariant.ENHANCED, FileVariant.THUMBNAIL, FileVariant.CROP, FileVariant.CROP224)
PROCESS_TASK = "facecommons.pipeline.tasks.process_contribution"  # tasks import this module: sent by name


def thresholds() -> Thresholds:
    return Thresholds(
        min_score=tunables.PIPELINE_MIN_SCORE,
        min_face_px=tunables.PIPELINE_MIN_FACE_PX,
        min_sharpness=tunables.PIPELINE_MIN_SHARPNESS,
        min_face_highlight=tunables.PIPELINE_MIN_FACE_HIGHLIGHT,
        max_outside_share=tunables.PIPELINE_MAX_OUTSIDE_SHARE,
        detect_side=tunables.PIPELINE_DETECT_SIDE,
        cascade_side=tunables.PIPELINE_CASCADE_SIDE,
        cascade_min_face=tunables.PIPELINE_CASCADE_MIN_FACE,
        enhanced_detect_sigma=tunables.PIPELINE_ENHANCED_DETECT_SIGMA,
    )


def lease_seconds() -> int:
    # Longer than the task's hard time limit (25 s), so a live run never loses its claim; short,
    # so that lease (30 s) + reconciler interval (10 s) + processing stays under a minute.
    return tunables.PIPELINE_LEASE_SECONDS


# --- models, loaded once per worker process (ml.registry's cache) ------------------------

def pipeline_detector() -> Any:
    return get_model(tunables.PIPELINE_DETECTOR, "detector")


def pipeline_enhancer() -> Any:
    """The configured enhancer; CLAHE if it cannot load (e.g. Zero-DCE++ weights not trained
    yet). The analysis records which one ran, so a fallback is visible per photo."""
    name = tunables.PIPELINE_ENHANCER
    try:
        return get_model(name, "enhancer")
    except Exception as exc:  # noqa: BLE001 - any load failure falls back, loudly (each time)
        logger.warning("enhancer %s unavailable (%s); falling back to clahe", name, exc)
        return get_model("clahe", "enhancer")


def pipeline_analyse(data: bytes, *, declared_low_light: bool | None = None) -> PhotoResult:
    return analyse_photo(data, detector=pipeline_detector(), enhancer_factory=pipeline_enhancer,
                         assess=assess, thresholds=thresholds(), declared_low_light=declared_low_light)


# --- enqueueing ------------------------------------------------------------------------
def pipeline_enqueue(contribution_id: str) -> None:
    """Enqueue processing once the current transaction commits (at once outside one).

    A broker that is down must not fail the upload that triggered this: the row is committed
    in ``received`` and the reconciler enqueues it later."""
    cid = str(contribution_id)

    def send() -> None:
        try:
            task_send(PROCESS_TASK, cid)
        except Exception:  # noqa: BLE001
            logger.exception("could not enqueue contribution %s; the reconciler will retry", cid)

    transaction.on_commit(send)


# --- one run ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Claim:
    contribution_id: str
    token: str
    attempt: int
    original_key: str
    original_sha256: str
    declared_low_light: bool | None = None
    lease: Lease | None = None


class ClaimBusy(Exception):
    """Another run holds a live lease on the contribution."""

    def __init__(self, contribution_id: str, seconds_left: float) -> None:
        super().__init__(f"contribution {contribution_id} is being processed (lease {seconds_left:.0f} s left)")
        self.seconds_left = seconds_left


def pipeline_claim(*, contribution_id: str) -> Claim | None:
    """Claim the contribution for this run. None when there is nothing to do (deleted, already
    judged, or given up on and now marked failed). Raises ``ClaimBusy`` when another run's lease
    is live. Owns its transaction."""
    max_attempts = tunables.PIPELINE_MAX_ATTEMPTS

    def claim() -> Claim | None:
        c = Contribution.objects.select_for_update().filter(pk=contribution_id).first()
        if c is None or c.status not in (S.RECEIVED, S.PROCESSING):
            return None
        analysis, _ = PhotoAnalysis.objects.get_or_create(contribution=c)
        now = timezone.now()
        if c.status == S.PROCESSING and lease_seconds_left(analysis.lease_expires_at, now=now) > 0:
            raise ClaimBusy(str(c.pk), lease_seconds_left(analysis.lease_expires_at, now=now))
        if c.status == S.RECEIVED and (analysis.attempts or analysis.lease_expires_at):
            # A new round (first upload, or re-opened by an admin): earlier claims do not count.
            analysis.attempts, analysis.lease_expires_at = 0, None
            analysis.save(update_fields=["attempts", "lease_expires_at"])
        if analysis.attempts >= max_attempts:
            error = (f"Processing was attempted {analysis.attempts} times without finishing "
                     f"(worker killed or timed out each time).{' Last error: ' + analysis.error if analysis.error else ''}")
            analysis.lease_expires_at = None
            analysis.claim_token = ""
            analysis.verdict_code = "error"
            analysis.save(update_fields=["lease_expires_at", "claim_token", "verdict_code"])
            contribution_transition(contribution=c, to=S.FAILED, action="pipeline_failed", error=error)
            return None
        lease = lease_claim(PhotoAnalysis.objects.all(), pk=c.pk, seconds=lease_seconds(), fence_column="claim_token",
                            set={"started_at": now, "finished_at": None}, now=now)
        if lease is None:  # not under the contribution's lock; kept for the type checker
            raise ClaimBusy(str(c.pk), 0)
        original = c.files.filter(variant=FileVariant.ORIGINAL).first()
        contribution_transition(contribution=c, to=S.PROCESSING, action="pipeline_started",
                                extra={"attempt": lease.attempt})
        return Claim(contribution_id=str(c.pk), token=lease.token, attempt=lease.attempt,
                     original_key=original.key if original else "", original_sha256=c.sha256,
                     declared_low_light=declared_low_light(c.categories), lease=lease)

    return atomic_write(claim)


def _derived_key(variant: str, sha256: str) -> str:
    return f"derived/{variant}/{sha256[:2]}/{sha256}.jpg"


def _read_original(claim: Claim) -> bytes:
    if not claim.original_key:
        raise FileNotFoundError("The contribution has no stored original file.")
    storage = private_storage()
    try:
        with storage.open(claim.original_key, "rb") as f:
            data = f.read()
    except FileNotFoundError as exc:
        raise FileNotFoundError(f"The stored original {claim.original_key} is missing.") from exc
    # The stored original is content-addressed: a mismatch means it was damaged after upload.
    digest = hashlib.sha256(data).hexdigest()
    if claim.original_sha256 and digest != claim.original_sha256:
        raise OSError(f"The stored original is damaged: {len(data)} bytes whose SHA-256 does not match "
                      f"the one recorded at upload.")
    return data


def _release_lease(claim: Claim) -> None:
    """Best effort: let a retry of this task claim again at once instead of waiting for the lease."""
    if claim.lease is None:
        return
    try:
        lease_release(claim.lease)
    except Exception:  # noqa: BLE001 - the database may be the thing that is down
        logger.warning("could not release the lease of %s; it expires on its own", claim.contribution_id)


def pipeline_finish(*, claim: Claim, result: PhotoResult, stored: dict[str, dict[str, Any]]) -> str:
    """Write the analysis, the file rows and the verdict if ``claim`` is still current.

    Returns "done", "gone" (deleted meanwhile) or "superseded" (another run took over)."""

    def finish() -> str:
        c = Contribution.objects.select_for_update().filter(pk=claim.contribution_id).first()
        if c is None:
            return "gone"
        a = PhotoAnalysis.objects.filter(contribution=c).first()
        if c.status != S.PROCESSING or a is None or a.claim_token != claim.token:
            return "superseded"  # the claim's fence (its token) is no longer the row's
        now = timezone.now()
        a.lowlight = result.lowlight
        a.enhanced = result.enhanced
        a.enhancer_id, a.enhancer_version = result.enhancer_id, result.enhancer_version
        a.detector_id, a.detector_version = result.detector_id, result.detector_version
        a.detections_original = [d.as_dict() for d in result.detections_original]
        a.detections_enhanced = [d.as_dict() for d in result.detections_enhanced]
        a.face = result.face
        a.sharpness = result.sharpness
        a.verdict_code = result.route
        a.findings = result.findings
        a.timings_ms = result.timings_ms
        a.finished_at = now
        a.lease_expires_at = None
        a.claim_token = ""
        a.error = ""
        a.save(update_fields=["lowlight", "enhanced", "enhancer_id", "enhancer_version", "detector_id",
                              "detector_version", "detections_original", "detections_enhanced", "face", "sharpness",
                              "verdict_code", "findings", "timings_ms", "finished_at", "lease_expires_at", "claim_token", "error"])
        for variant, info in stored.items():
            ContributionFile.objects.update_or_create(contribution=c, variant=variant, defaults=info)
        stale = ContributionFile.objects.filter(contribution=c, variant__in=DERIVED_VARIANTS).exclude(
            variant__in=list(stored))
        stale_keys = list(stale.values_list("key", flat=True))
        stale.delete()
        if stale_keys:
            transaction.on_commit(lambda: _delete_unreferenced(stale_keys))
        extra = {"route": result.route, "findings": result.findings, "faces": result.faces_found,
                 "enhanced": result.enhanced, "attempt": claim.attempt}
        if result.route == ROUTE_REVIEW:
            contribution_transition(contribution=c, to=S.AWAITING_REVIEW, action="pipeline_passed", extra=extra)
        elif result.route == ROUTE_AWAIT_CONTRIBUTOR:
            contribution_transition(contribution=c, to=S.AWAITING_CONTRIBUTOR, action="pipeline_awaiting_contributor",
                                    extra=extra)
        else:
            # The message is stored in English for the audit trail; pages show the finding's
            # translated sentence by its code.
            code = result.findings[0] if result.findings else "rejected"
            contribution_transition(contribution=c, to=S.REJECTED, action="pipeline_rejected", reason_code=code,
                                    message=str(FINDING_MESSAGES.get(code, "")), extra=extra)
        return "done"

    return atomic_write(finish)


def pipeline_fail(*, claim: Claim, error: str) -> bool:
    """Mark the claimed contribution ``failed`` with ``error``, if the claim is still current."""

    def fail() -> bool:
        c = Contribution.objects.select_for_update().filter(pk=claim.contribution_id).first()
        if c is None or c.status != S.PROCESSING:
            return False
        a = PhotoAnalysis.objects.filter(contribution=c).first()
        if a is None or a.claim_token != claim.token:
            return False
        a.error = error
        a.verdict_code = "error"
        a.finished_at = timezone.now()
        a.lease_expires_at = None
        a.claim_token = ""
        a.save(update_fields=["error", "verdict_code", "finished_at", "lease_expires_at", "claim_token"])
        contribution_transition(contribution=c, to=S.FAILED, action="pipeline_failed", error=error,
                                extra={"attempt": claim.attempt})
        return True

    return atomic_write(fail)


def _delete_unreferenced(keys: list[str]) -> None:
    used = set(ContributionFile.objects.filter(key__in=keys).values_list("key", flat=True))
    storage_delete(*[k for k in keys if k not in used])


def _describe(exc: BaseException) -> str:
    if isinstance(exc, SoftTimeLimitExceeded):
        return "Processing took longer than the time limit and was stopped."
    if isinstance(exc, OSError | ValueError) and not isinstance(exc, ConnectionError | TimeoutError):
        # PIL reports truncated and corrupt files as OSError / UnidentifiedImageError.
        return f"The stored photo could not be read: {exc}"[:2000]
    return f"Unexpected error during processing: {type(exc).__name__}: {exc}"[:2000]


def pipeline_process(*, contribution_id: str) -> str:
    """Process one contribution end to end. Idempotent; safe to run concurrently.

    Returns "skipped" (nothing to do), "done", "failed", "gone" or "superseded". Raises
    ``ClaimBusy`` when another run holds the contribution, and the ``TRANSIENT_ERRORS`` for the
    task to retry. Every other exception marks the contribution ``failed`` with the error."""
    claim = pipeline_claim(contribution_id=contribution_id)
    if claim is None:
        return "skipped"
    written: list[str] = []
    try:
        data = _read_original(claim)
        result = pipeline_analyse(data, declared_low_light=claim.declared_low_light)
        stored: dict[str, dict[str, Any]] = {}
        for f in result.files:
            sha = f.sha256
            key = storage_save_bytes(_derived_key(f.variant, sha), f.data)
            written.append(key)
            stored[f.variant] = {"key": key, "sha256": sha, "content_type": "image/jpeg", "width": f.width,
                                 "height": f.height, "byte_size": len(f.data)}
    except TRANSIENT_ERRORS:
        _release_lease(claim)
        raise
    except Exception as exc:  # noqa: BLE001 - never leave a photo stuck: record and fail it
        logger.warning("contribution %s failed: %s", contribution_id, exc, exc_info=True)
        return "failed" if pipeline_fail(claim=claim, error=_describe(exc)) else "superseded"
    outcome = pipeline_finish(claim=claim, result=result, stored=stored)
    if outcome == "gone":
        # Deleted while we worked: our files are referenced by nothing and are biometric data.
        _delete_unreferenced(written)
    return outcome


def pipeline_refresh_lighting_finding(*, contribution: Contribution) -> None:
    """Re-judge ``lighting_mismatch`` after the contributor changed the declared lighting: the
    measured light is stored, so no image work is needed. Precondition: the row is locked."""
    a = PhotoAnalysis.objects.filter(contribution=contribution).first()
    if a is None or not a.lowlight:
        return
    declared = declared_low_light(contribution.categories)
    mismatch = declared is not None and declared != bool(a.lowlight.get("is_low_light"))
    codes = set(a.findings or []) - {LIGHTING_MISMATCH} | ({LIGHTING_MISMATCH} if mismatch else set())
    findings = [f for f in FINDINGS if f in codes]
    if findings != list(a.findings or []):
        a.findings = findings
        a.save(update_fields=["findings"])


# --- reconciler ------------------------------------------------------------------------
def pipeline_stuck_ids(*, limit: int = 500) -> list[str]:
    """Contributions in ``received``/``processing`` for longer than PIPELINE_STUCK_AFTER_SECONDS;
    ``processing`` ones only when no run holds a live lease."""
    now = timezone.now()
    cutoff = now - timedelta(seconds=tunables.PIPELINE_STUCK_AFTER_SECONDS)
    expired = Q(analysis__isnull=True) | lease_expired_q(field="analysis__lease_expires_at", now=now)
    qs = Contribution.objects.filter(status_changed_at__lte=cutoff).filter(
        Q(status=S.RECEIVED) | (Q(status=S.PROCESSING) & expired)).order_by("status_changed_at")
    return [str(pk) for pk in qs.values_list("pk", flat=True)[:limit]]


def pipeline_reconcile(*, limit: int = 500) -> list[str]:
    """Re-enqueue stuck contributions; returns their ids.

    Duplicates are harmless (the task is idempotent) but wasteful: a contribution re-enqueued
    in the last PIPELINE_STUCK_AFTER_SECONDS (at least 30 s) is not sent again, so a long
    queue is not flooded with copies while the first one waits its turn."""
    ttl = max(30, tunables.PIPELINE_STUCK_AFTER_SECONDS)
    candidates = pipeline_stuck_ids(limit=limit)
    recent = cache.get_many([f"pipeline:requeued:{cid}" for cid in candidates])
    ids = [cid for cid in candidates if f"pipeline:requeued:{cid}" not in recent]
    for cid in ids:
        task_send(PROCESS_TASK, cid)
    cache.set_many({f"pipeline:requeued:{cid}": 1 for cid in ids}, timeout=ttl)
    if ids:
        logger.info("reconciler re-enqueued %d contribution(s)", len(ids))
    return ids
