"""What the worker pipeline found for a contribution."""

from __future__ import annotations

from django.db import models

from facecommons.common.leases import LeaseFields
from facecommons.contributions.models import Contribution


class PhotoAnalysis(LeaseFields):
    """One row per contribution, rewritten in place by the (idempotent) pipeline task.

    ``detections_*`` are lists of ``ml.detectors.Detection.as_dict()`` in the coordinates of the
    stored original (full resolution). ``face`` is the validated face (box, landmarks, score)
    that the verdict accepted, or empty.
    """

    contribution = models.OneToOneField(Contribution, on_delete=models.CASCADE, related_name="analysis",
                                        primary_key=True)
    lowlight = models.JSONField(default=dict, help_text="enhancement.assess() report: is_low_light, mean, p95, ...")
    enhanced = models.BooleanField(default=False)
    enhancer_id = models.CharField(max_length=40, blank=True)
    enhancer_version = models.CharField(max_length=40, blank=True)
    detector_id = models.CharField(max_length=40, blank=True)
    detector_version = models.CharField(max_length=40, blank=True)
    detections_original = models.JSONField(default=list)
    detections_enhanced = models.JSONField(default=list)
    face = models.JSONField(default=dict, blank=True)
    sharpness = models.FloatField(null=True, blank=True, help_text="face detail: gradient energy after a slight blur over that after a stronger one, on the aligned, denoised face (ml/quality.py); 1 means no detail")
    verdict_code = models.CharField(max_length=40, blank=True,
                                    help_text="the route: review, await_contributor, reject (or error)")
    findings = models.JSONField(default=list, blank=True,
                                help_text="finding codes of pipeline.analysis.FINDINGS, shown as moderator flags")
    # The detector found no face and a person marked it (``face["source"] == "moderator"``):
    # the labelled hard cases of the reference detector, carried into snapshots.
    detector_missed = models.BooleanField(default=False, db_index=True)
    timings_ms = models.JSONField(default=dict, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # ``attempts`` and ``lease_expires_at`` (LeaseFields): the claims so far and the current one's end.
    # The claim of the run now working on the contribution: a second run (a redelivered or
    # duplicate message) leaves it alone until the lease expires, and a run whose claim was
    # taken over discards its results instead of writing them.
    claim_token = models.CharField(max_length=32, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True, db_index=True)  # the reconciler's filter
    error = models.TextField(blank=True, help_text="the unexpected error of the last failed run, if any")

    class Meta:
        verbose_name_plural = "photo analyses"

    def __str__(self) -> str:
        return f"analysis of {self.contribution_id}: {self.verdict_code or 'pending'}"
