"""Bias evaluation: external labelled collections, the per-photo model results cache, runs
(items frozen at the start, processed in chunks) and their per-group metrics."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from facecommons.common.leases import LeaseFields


class ExternalFormat(models.TextChoices):
    UTKFACE = "utkface", _("UTKFace (labels in file names)")
    FAIRFACE = "fairface", _("FairFace (CSV file,age,gender,race)")
    CSV = "csv", _("Generic CSV (file,subject,age_range,gender,ethnicity,skin_tone)")


class ExternalSource(models.Model):
    """A labelled collection brought in from outside for evaluation only.

    Never part of a crowdsourced snapshot: its photos live in ``ExternalImage`` (not
    ``Contribution``) under ``external/<name>/`` in private storage."""

    name = models.SlugField(max_length=60, unique=True)
    format = models.CharField(max_length=10, choices=ExternalFormat.choices)
    licence = models.CharField(max_length=300)
    provenance = models.TextField(help_text="where the collection comes from (URL, version, citation)")
    imported_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    image_count = models.PositiveIntegerField(default=0)
    skipped = models.JSONField(default=dict, blank=True, help_text="skipped files by reason, from the last import")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.format}, {self.image_count} images)"


class ExternalImage(models.Model):
    source = models.ForeignKey(ExternalSource, on_delete=models.CASCADE, related_name="images")
    key = models.CharField(max_length=255, help_text="private storage key (external/<source>/...)")
    sha256 = models.CharField(max_length=64)
    subject = models.CharField(max_length=120, blank=True, help_text="the person's id in the source, if it has one")
    categories = models.JSONField(default=dict, help_text="labels mapped onto the taxonomy's category keys")
    original_name = models.CharField(max_length=255)
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["source", "id"]
        constraints = [models.UniqueConstraint(fields=["source", "sha256"], name="one_external_image_per_content")]

    def __str__(self) -> str:
        return f"{self.source.name}/{self.original_name}"


class Variant(models.TextChoices):
    ORIGINAL = "original", "original"
    ENHANCED = "enhanced", "enhanced"


class ResultTask(models.TextChoices):
    DETECTION = "detection", "detection"
    EMBEDDING = "embedding", "embedding"


class ModelResult(models.Model):
    """What one model version made of one image: the cache that makes a re-run incremental.

    Keyed by the image's content hash, so the same bytes are never run twice through the same
    model version, whichever contribution, snapshot or source they belong to. Embeddings are
    biometric templates: they are deleted with the contribution (``receivers``)."""

    content_sha256 = models.CharField(max_length=64)
    model_id = models.CharField(max_length=60)
    model_version = models.CharField(max_length=120)
    variant = models.CharField(max_length=10, choices=Variant.choices, default=Variant.ORIGINAL)
    task = models.CharField(max_length=10, choices=ResultTask.choices)
    result = models.JSONField(default=dict, blank=True)
    embedding = models.BinaryField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["content_sha256", "model_id", "model_version", "variant", "task"],
                                               name="one_result_per_image_model_variant_task")]
        indexes = [models.Index(fields=["model_id", "model_version", "task"])]

    def __str__(self) -> str:
        return f"{self.model_id}@{self.model_version} {self.task} {self.variant} {self.content_sha256[:12]}"


class RunScope(models.TextChoices):
    CURRENT = "current", _("current approved set")
    SNAPSHOT = "snapshot", _("published snapshot")
    SOURCE = "source", _("external source")


class RunStatus(models.TextChoices):
    RUNNING = "running", _("running")
    FINALISING = "finalising", _("computing metrics")
    DONE = "done", _("done")
    FAILED = "failed", _("failed")


ACTIVE_STATUSES = (RunStatus.RUNNING, RunStatus.FINALISING)


class EvaluationRun(models.Model):
    """One evaluation of exact model versions on a frozen set of photos (``items``).

    At most one active run per scope (``scope_key``: ``current``, ``snapshot:<version>``,
    ``source:<name>``), enforced by a partial unique index, so the nightly schedule, an admin and
    the command can never start the same work twice."""

    scope = models.CharField(max_length=10, choices=RunScope.choices)
    scope_key = models.CharField(max_length=100)
    snapshot_version = models.CharField(max_length=20, blank=True)
    source = models.ForeignKey(ExternalSource, null=True, blank=True, on_delete=models.SET_NULL, related_name="runs")
    source_name = models.CharField(max_length=60, blank=True)
    model_specs = models.JSONField(default=list, help_text="[{id, version, task, license, weights_source}]")
    unavailable = models.JSONField(default=list, blank=True, help_text="[{id, message}] models that did not load")
    status = models.CharField(max_length=12, choices=RunStatus.choices, default=RunStatus.RUNNING, db_index=True)
    trigger = models.CharField(max_length=20, default="manual")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    items_total = models.PositiveIntegerField(default=0)
    chunks_total = models.PositiveIntegerField(default=0)
    chunks_done = models.PositiveIntegerField(default=0)
    computed = models.PositiveIntegerField(default=0, help_text="model calls made (cache misses)")
    reused = models.PositiveIntegerField(default=0, help_text="results taken from the cache")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    summary = models.JSONField(default=dict, blank=True)
    alerts = models.JSONField(default=list, blank=True)
    alert_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["scope_key"], condition=models.Q(status__in=["running", "finalising"]),
                                               name="one_active_evaluation_per_scope")]

    def __str__(self) -> str:
        return f"evaluation {self.pk} {self.scope_key} ({self.status})"

    @property
    def progress(self) -> float:
        return self.chunks_done / self.chunks_total if self.chunks_total else (1.0 if self.status == "done" else 0.0)


class EvaluationItem(models.Model):
    """One photo of a run with the labels, subject and face box it had when the run started."""

    run = models.ForeignKey(EvaluationRun, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveIntegerField()
    kind = models.CharField(max_length=12)  # contribution | external
    ref = models.CharField(max_length=64)
    sha256 = models.CharField(max_length=64)
    key = models.CharField(max_length=255)
    enhanced_sha256 = models.CharField(max_length=64, blank=True)
    enhanced_key = models.CharField(max_length=255, blank=True)
    subject = models.CharField(max_length=140)
    categories = models.JSONField(default=dict)
    face = models.JSONField(null=True, blank=True, help_text="validated face (box, landmarks) or null")

    class Meta:
        ordering = ["run", "position"]
        constraints = [models.UniqueConstraint(fields=["run", "position"], name="one_item_per_position")]

    def __str__(self) -> str:
        return f"run {self.run_id} item {self.position} ({self.kind} {self.ref})"


class ChunkStatus(models.TextChoices):
    PENDING = "pending", "pending"
    DONE = "done", _("done")


class EvaluationChunk(LeaseFields):
    """Items [start, stop) of a run. A worker claims it with a lease; a chunk whose worker died
    is claimed again when the lease expires, and redoes only what the cache does not hold."""

    run = models.ForeignKey(EvaluationRun, on_delete=models.CASCADE, related_name="chunks")
    index = models.PositiveIntegerField()
    start = models.PositiveIntegerField()
    stop = models.PositiveIntegerField()
    status = models.CharField(max_length=8, choices=ChunkStatus.choices, default=ChunkStatus.PENDING, db_index=True)
    computed = models.PositiveIntegerField(default=0)
    reused = models.PositiveIntegerField(default=0)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["run", "index"]
        constraints = [models.UniqueConstraint(fields=["run", "index"], name="one_chunk_per_index")]

    def __str__(self) -> str:
        return f"run {self.run_id} chunk {self.index} [{self.start}, {self.stop}) {self.status}"


class MetricResult(models.Model):
    """One number of a run (see ``ml.metrics``): metric of a group, its n and 95% interval.

    ``value`` is the group (``woman``; an intersection ``gender=woman&skin_tone=9``; ``all``;
    ``*`` for a summary over a category's groups). ``insufficient`` rows carry no estimate."""

    run = models.ForeignKey(EvaluationRun, on_delete=models.CASCADE, related_name="metrics")
    model_id = models.CharField(max_length=60)
    model_version = models.CharField(max_length=120)
    task = models.CharField(max_length=12)  # detection | verification
    category = models.CharField(max_length=80)
    value = models.CharField(max_length=200)
    metric = models.CharField(max_length=60)
    estimate = models.FloatField(null=True, blank=True)
    n = models.PositiveIntegerField(default=0)
    ci_low = models.FloatField(null=True, blank=True)
    ci_high = models.FloatField(null=True, blank=True)
    insufficient = models.BooleanField(default=False)
    note = models.CharField(max_length=120, blank=True)

    class Meta:
        ordering = ["run", "model_id", "metric", "category", "value"]
        indexes = [models.Index(fields=["run", "model_id", "metric"]), models.Index(fields=["model_id", "metric", "category", "value"])]

    def __str__(self) -> str:
        return f"{self.model_id} {self.metric} {self.category}={self.value}: {self.estimate}"


class CurveResult(models.Model):
    """A DET curve of one group: ``points`` = [[threshold, fmr, fnmr], ...]."""

    run = models.ForeignKey(EvaluationRun, on_delete=models.CASCADE, related_name="curves")
    model_id = models.CharField(max_length=60)
    model_version = models.CharField(max_length=120)
    category = models.CharField(max_length=80)
    value = models.CharField(max_length=200)
    points = models.JSONField(default=list)
    n_genuine = models.PositiveIntegerField(default=0)
    n_impostor = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["run", "model_id", "category", "value"]

    def __str__(self) -> str:
        return f"{self.model_id} DET {self.category}={self.value}"


class GatekeeperAudit(models.Model):
    """One audit of the automated gate per group (``evaluation.gatekeeper``). ``rows`` are
    ``MetricRow.as_dict()``; public output hides groups below ``STATS_MIN_COUNT``."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    photos = models.PositiveIntegerField(default=0, help_text="photos the pipeline judged")
    rows = models.JSONField(default=list)
    alerts = models.JSONField(default=list, blank=True)
    alert_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"gatekeeper audit {self.pk} ({self.photos} photos)"
