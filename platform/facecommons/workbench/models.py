"""Training runs: a small model trained on a published snapshot under a sampling policy, its
progress, the training set it really saw, and its per-group results on the test split."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from facecommons.common.leases import LeaseFields


class Task(models.TextChoices):
    FACE_VS_BACKGROUND = "face-vs-background", _("face vs background (small CNN)")
    CATEGORY = "category", _("category classifier")
    VERIFICATION = "verification", _("face verification (margin loss)")


class PolicyKind(models.TextChoices):
    AS_IS = "as_is", _("as the snapshot is")
    BALANCED = "balanced", _("balanced over a category")
    SKEWED = "skewed", _("skewed: only chosen values")


class TrainingStatus(models.TextChoices):
    QUEUED = "queued", _("queued")
    RUNNING = "running", _("running")
    DONE = "done", _("done")
    FAILED = "failed", _("failed")
    CANCELLED = "cancelled", _("cancelled")


ACTIVE = (TrainingStatus.QUEUED, TrainingStatus.RUNNING)


class TrainingRun(LeaseFields):
    """One training of ``task`` on snapshot ``snapshot_version`` with ``config`` (the full
    ``ml.workbench.TrainConfig``: policy, seed, epochs...). A worker holds it with a lease that
    its progress renews; a run whose worker died is claimed again and resumes from its last
    checkpoint."""

    snapshot_version = models.CharField(max_length=20)
    task = models.CharField(max_length=20, choices=Task.choices)
    policy = models.JSONField(default=dict, help_text="{kind, category, values, max_photos}")
    seed = models.PositiveIntegerField(default=0)
    config = models.JSONField(default=dict)
    status = models.CharField(max_length=10, choices=TrainingStatus.choices, default=TrainingStatus.QUEUED,
                              db_index=True)
    cancel_requested = models.BooleanField(default=False)
    epoch = models.PositiveSmallIntegerField(default=0)
    epochs = models.PositiveSmallIntegerField(default=0)
    loss = models.FloatField(null=True, blank=True)
    validation = models.FloatField(null=True, blank=True)
    validation_name = models.CharField(max_length=80, blank=True)
    history = models.JSONField(default=list, blank=True)
    training_set = models.JSONField(default=list, blank=True,
                                    help_text="what the model saw: [{path, subject, labels}]")
    training_set_size = models.PositiveIntegerField(default=0)
    rows = models.JSONField(default=list, blank=True, help_text="per-group results on the test split")
    baseline_rows = models.JSONField(default=list, blank=True, help_text="the frozen baseline's results (verification)")
    summary = models.JSONField(default=dict, blank=True)
    model_key = models.CharField(max_length=255, blank=True, help_text="private storage key of the trained weights")
    model_card = models.TextField(blank=True)
    registered_model_id = models.CharField(max_length=60, blank=True,
                                           help_text="id under which the evaluation measures this model")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"training {self.pk} {self.task} on {self.snapshot_version} ({self.status})"

    @property
    def policy_label(self) -> str:
        kind = self.policy.get("kind", "as_is")
        if kind == "skewed":
            return gettext("skewed: only %(values)s of %(category)s") % {
                "values": ", ".join(self.policy.get("values") or []), "category": self.policy.get("category")}
        if kind == "balanced":
            return gettext("balanced over %(category)s") % {"category": self.policy.get("category")}
        return gettext("as the snapshot is")

    @property
    def progress(self) -> float:
        return self.epoch / self.epochs if self.epochs else 0.0
