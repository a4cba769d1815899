"""Evaluation services: importing external sources, starting runs, processing chunks,
computing the metrics, alerting. Tasks and the ``evaluate`` command are thin wrappers."""

from __future__ import annotations

import hashlib
import io
import logging
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from django.contrib.auth import get_user_model
from django.core.mail import mail_admins, send_mail
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from PIL import Image, ImageOps

from facecommons.accounts.roles import Role
from facecommons.common.audit import audit_record
from facecommons.common.db import atomic_write
from facecommons.common.errors import ServiceError
from facecommons.common.leases import Heartbeat, Lease, lease_claim, lease_renew
from facecommons.common.storage import storage_delete, storage_save_bytes
from facecommons.common.tunables import Tunables, tunables
from facecommons.contributions.models import Contribution, ContributionStatus, TaxonomyVersion
from facecommons.evaluation import engine, importers, stress
from facecommons.evaluation.models import (
    ChunkStatus,
    CurveResult,
    EvaluationChunk,
    EvaluationItem,
    EvaluationRun,
    ExternalFormat,
    ExternalImage,
    ExternalSource,
    MetricResult,
    ModelResult,
    RunScope,
    RunStatus,
)
from facecommons.releases.models import Snapshot, SnapshotEntry
from ml import metrics as M

logger = logging.getLogger(__name__)


# --- settings ---------------------------------------------------------------------------

def min_group_size() -> int:
    return tunables.EVAL_MIN_GROUP_SIZE


def target_fmr() -> float:
    return tunables.EVAL_TARGET_FMR


def chunk_size() -> int:
    return max(1, tunables.EVAL_CHUNK_SIZE)


def bootstrap_replicates() -> int:
    return max(20, tunables.EVAL_BOOTSTRAP_REPLICATES)


def gap_limits() -> dict[str, float]:
    """``EVAL_GAP_ALERT``: {"fmr_ratio": worst/best FMR, "detection_gap": best − worst rate}."""
    # A setting that names one of the two keys keeps the declared default of the other.
    limits = {**Tunables.EVAL_GAP_ALERT.default, **tunables.EVAL_GAP_ALERT}
    return {"fmr_ratio": float(limits["fmr_ratio"]), "detection_gap": float(limits["detection_gap"])}


class EvaluationError(ServiceError):
    """A run cannot start (unknown model, snapshot or source, nothing to evaluate)."""


class RunAlreadyActive(EvaluationError):
    def __init__(self, run: EvaluationRun) -> None:
        super().__init__("already_running", f"Evaluation {run.pk} of {run.scope_key} is still {run.status}; "
                         "only one run per scope at a time.", status=409)
        self.run = run


# --- external sources -------------------------------------------------------------------

MAX_IMPORT_BYTES = 25 * 1024 * 1024


@dataclass
class ImportReport:
    source: ExternalSource
    imported: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # "name: reason" for bad files

    def skip(self, name: str, reason: str, detail: str = "") -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1
        if reason not in ("under_18", "duplicate"):
            self.problems.append(f"{name}: {reason}{' (' + detail + ')' if detail else ''}")


def clean_jpeg(data: bytes) -> tuple[bytes, int, int]:
    """Decode, turn upright by EXIF, and re-encode as a fresh JPEG that carries no metadata.

    Raises ValueError for anything that is not a readable image."""
    if not data:
        raise ValueError("empty file")
    if len(data) > MAX_IMPORT_BYTES:
        raise ValueError("file larger than 25 MB")
    try:
        with Image.open(io.BytesIO(data)) as im:
            im.load()
            upright = ImageOps.exif_transpose(im) or im
            rgb = upright.convert("RGB")
    except Exception as exc:  # noqa: BLE001 - any decoder failure means a bad file, reported and skipped
        raise ValueError(f"not a readable image ({exc.__class__.__name__})") from exc
    clean = Image.frombytes("RGB", rgb.size, rgb.tobytes())  # no info dict: no EXIF/GPS/ICC/XMP survives
    buf = io.BytesIO()
    clean.save(buf, "JPEG", quality=92)
    return buf.getvalue(), clean.width, clean.height


def _taxonomy_values() -> dict[str, set[str]]:
    tax = TaxonomyVersion.objects.get(is_current=True)
    return {c.key: {v.key for v in c.values.all()} for c in tax.categories.prefetch_related("values")}


def external_source_import(*, fmt: str, path: Path, name: str, licence: str, provenance: str,
                           actor: Any | None = None,
                           on_progress: Callable[[], None] | None = None) -> ImportReport:
    """Import a labelled collection as an external source (created, or extended if it exists).

    Every image is re-encoded without metadata into private storage under
    ``external/<name>/``; bad files and unusable labels are skipped and reported, never fatal.
    Raises ``EvaluationError`` when the path or format is wrong."""
    if fmt not in ExternalFormat.values:
        raise EvaluationError("invalid", f"Unknown format {fmt!r}; use one of {', '.join(ExternalFormat.values)}.")
    path = Path(path)
    if fmt == ExternalFormat.UTKFACE and not path.is_dir():
        raise EvaluationError("invalid", f"{path} is not a folder (UTKFace: a folder of age_gender_race_date.jpg files).")
    if fmt != ExternalFormat.UTKFACE and not path.is_file():
        raise EvaluationError("invalid", f"{path} is not a file ({fmt}: the CSV file; image paths are relative to its folder).")
    source, created = ExternalSource.objects.get_or_create(
        name=name, defaults={"format": fmt, "licence": licence, "provenance": provenance})
    if not created and source.format != fmt:
        raise EvaluationError("invalid", f"Source {name!r} exists with format {source.format}, not {fmt}.")
    if not created and (licence or provenance):
        source.licence, source.provenance = licence or source.licence, provenance or source.provenance
        source.save(update_fields=["licence", "provenance", "updated_at"])
    records: Iterable[importers.Record | importers.Skip]
    if fmt == ExternalFormat.UTKFACE:
        records = importers.read_utkface(path)
    elif fmt == ExternalFormat.FAIRFACE:
        records = importers.read_fairface(path)
    else:
        records = importers.read_generic_csv(path, _taxonomy_values())
    report = ImportReport(source=source)
    for rec in records:
        if on_progress:
            on_progress()
        if isinstance(rec, importers.Skip):
            report.skip(rec.name, rec.reason, rec.detail)
            continue
        try:
            raw = rec.path.read_bytes()
            jpeg, w, h = clean_jpeg(raw)
        except (OSError, ValueError) as exc:
            report.skip(rec.name, "bad_file", str(exc))
            continue
        sha = hashlib.sha256(jpeg).hexdigest()
        if ExternalImage.objects.filter(source=source, sha256=sha).exists():
            report.skip(rec.name, "duplicate")
            continue
        key = storage_save_bytes(f"external/{source.name}/{sha[:2]}/{sha}.jpg", jpeg)
        try:
            with transaction.atomic():
                ExternalImage.objects.create(source=source, key=key, sha256=sha, subject=rec.subject,
                                             categories=rec.categories, original_name=rec.name[:255], width=w,
                                             height=h)
        except IntegrityError:
            report.skip(rec.name, "duplicate")
            continue
        report.imported += 1
    source.image_count = source.images.count()
    source.skipped = report.skipped
    source.save(update_fields=["image_count", "skipped", "updated_at"])
    audit_record(actor=actor, action="external_source_imported", obj=source,
                 after={"imported": report.imported, "skipped": report.skipped, "format": fmt})
    return report


def external_image_delete_files(keys: list[str]) -> None:
    storage_delete(*keys)


# --- starting a run ----------------------------------------------------------------------

def _contribution_item(c: Any, subject: str) -> dict[str, Any]:
    files = {f.variant: f for f in c.files.all()}
    orig = files.get("original")
    enh = files.get("enhanced")
    analysis = getattr(c, "analysis", None)
    face = None
    if analysis is not None and isinstance(analysis.face, dict) and analysis.face.get("box"):
        face = {"box": analysis.face["box"], "landmarks": analysis.face.get("landmarks", []),
                "score": analysis.face.get("score", 1.0)}
    return {"kind": "contribution", "ref": str(c.pk), "sha256": orig.sha256 if orig else c.sha256,
            "key": orig.key if orig else "", "enhanced_sha256": enh.sha256 if enh else "",
            "enhanced_key": enh.key if enh else "", "subject": subject,
            "categories": c.effective_categories, "face": face}


def _contributions(qs: Any) -> Any:
    return qs.select_related("analysis").prefetch_related("files").order_by("created_at", "pk")


def scope_items(*, scope: str, snapshot_version: str = "", source: ExternalSource | None = None) -> list[dict[str, Any]]:
    """The photos of a scope with their labels, subject and validated face, in a stable order."""
    if scope == RunScope.CURRENT:
        qs = _contributions(Contribution.objects.filter(status=ContributionStatus.APPROVED))
        return [_contribution_item(c, f"owner:{c.owner_id}") for c in qs if c.files.all()]
    if scope == RunScope.SNAPSHOT:
        snap = Snapshot.objects.filter(version=snapshot_version, status="published").first()
        if snap is None:
            raise EvaluationError("invalid", f"No published snapshot {snapshot_version!r}.")
        subjects = dict(SnapshotEntry.objects.filter(snapshot=snap).values_list("contribution_id", "subject_id"))
        # Photos withdrawn since publication are gone (their files deleted): they drop out.
        qs = _contributions(Contribution.objects.filter(pk__in=list(subjects)))
        return [_contribution_item(c, str(subjects[c.pk])) for c in qs if c.files.all()]
    if scope == RunScope.SOURCE:
        assert source is not None
        return [{"kind": "external", "ref": str(img.pk), "sha256": img.sha256, "key": img.key,
                 "enhanced_sha256": "", "enhanced_key": "", "subject": img.subject or f"img:{img.pk}",
                 "categories": img.categories, "face": None}
                for img in source.images.order_by("pk")]
    raise EvaluationError("invalid", f"Unknown scope {scope!r}.")


def latest_published_snapshot_version() -> str | None:
    snap = Snapshot.objects.filter(status="published").order_by("-published_at", "-pk").first()
    return snap.version if snap else None


def evaluation_run_start(*, scope: str = RunScope.CURRENT, snapshot_version: str = "", source_name: str = "",
                         models: list[str] | None = None, trigger: str = "manual", actor: Any | None = None,
                         size: int | None = None) -> EvaluationRun:
    """Freeze the scope's photos and the exact model versions into a new run, split in chunks.

    Raises ``EvaluationError`` (unknown model/snapshot/source, nothing to evaluate) or
    ``RunAlreadyActive``. The caller enqueues the chunks (``tasks.enqueue_run``)."""
    source = None
    if scope == RunScope.SNAPSHOT:
        if not snapshot_version:
            raise EvaluationError("invalid", "A snapshot run needs a snapshot version.")
        scope_key = f"snapshot:{snapshot_version}"
    elif scope == RunScope.SOURCE:
        source = ExternalSource.objects.filter(name=source_name).first()
        if source is None:
            raise EvaluationError("invalid", f"No external source {source_name!r}. Import one with manage.py import_dataset.")
        scope_key = f"source:{source.name}"
    elif scope == RunScope.CURRENT:
        scope_key = "current"
    else:
        raise EvaluationError("invalid", f"Unknown scope {scope!r}; use current, snapshot or source.")
    active = EvaluationRun.objects.filter(scope_key=scope_key, status__in=[RunStatus.RUNNING, RunStatus.FINALISING]).first()
    if active is not None:
        raise RunAlreadyActive(active)
    try:
        specs, unavailable = engine.resolve_models(models)
    except KeyError as exc:
        raise EvaluationError("invalid", str(exc.args[0])) from exc
    if not specs:
        raise EvaluationError("invalid", "None of the requested models can load here: "
                              + "; ".join(f"{u['id']}: {u['message']}" for u in unavailable))
    items = scope_items(scope=scope, snapshot_version=snapshot_version, source=source)
    if not items:
        raise EvaluationError("invalid", f"Nothing to evaluate in {scope_key}: it holds no photos.")
    per_chunk = size or chunk_size()

    def create() -> EvaluationRun:
        run = EvaluationRun.objects.create(
            scope=scope, scope_key=scope_key, snapshot_version=snapshot_version, source=source,
            source_name=source.name if source else "", model_specs=[s.as_dict() for s in specs],
            unavailable=unavailable, status=RunStatus.RUNNING, trigger=trigger,
            requested_by=actor if getattr(actor, "is_authenticated", False) else None,
            items_total=len(items), chunks_total=math.ceil(len(items) / per_chunk), started_at=timezone.now())
        EvaluationItem.objects.bulk_create([EvaluationItem(run=run, position=i, **it) for i, it in enumerate(items)],
                                           batch_size=1000)
        EvaluationChunk.objects.bulk_create([
            EvaluationChunk(run=run, index=k, start=lo, stop=min(len(items), lo + per_chunk))
            for k, lo in enumerate(range(0, len(items), per_chunk))])
        audit_record(actor=actor, action="evaluation_started", obj=run,
                     after={"scope": scope_key, "models": [f"{s.id}@{s.version}" for s in specs],
                            "items": len(items), "trigger": trigger})
        return run

    try:
        return atomic_write(create)
    except IntegrityError as exc:
        # Another starter won the race for this scope (the partial unique index said no).
        active = EvaluationRun.objects.filter(scope_key=scope_key,
                                              status__in=[RunStatus.RUNNING, RunStatus.FINALISING]).first()
        if active is not None:
            raise RunAlreadyActive(active) from exc
        raise


# --- processing chunks -------------------------------------------------------------------

def chunk_lease_seconds() -> int:
    # Short, because the chunk's task renews it every third of it (``chunk_heartbeat``): a
    # worker killed mid-chunk is noticed this long after its last beat, not after the chunk's
    # whole time limit.
    return tunables.EVAL_CHUNK_LEASE_SECONDS


def chunk_claim(*, chunk_id: int) -> Lease | None:
    """Take the chunk for this worker unless it is done or another worker's lease still runs.
    The lease's fence is the chunk's attempt count."""
    return lease_claim(EvaluationChunk.objects.filter(status=ChunkStatus.PENDING), pk=chunk_id,
                       seconds=chunk_lease_seconds())


def chunk_heartbeat(lease: Lease) -> Heartbeat:
    """Renews the chunk's lease every third of it while the chunk is computed."""
    return Heartbeat(lambda: lease_renew(lease, where=Q(status=ChunkStatus.PENDING)), every=lease.seconds / 3,
                     name=f"evaluation chunk {lease.pk}")


def _specs(run: EvaluationRun) -> list[engine.ModelSpec]:
    fields = {"id", "version", "task", "license", "weights_source"}
    return [engine.ModelSpec(**{k: v for k, v in m.items() if k in fields}) for m in run.model_specs]


def chunk_process(*, chunk_id: int, on_item: Callable[[], None] | None = None) -> bool:
    """Compute the cache misses of the chunk's photos and mark it done. Idempotent: a chunk that
    is done is left alone, and a redo after a crash recomputes only what was not yet stored.

    Precondition: the caller claimed the chunk (``chunk_claim``), or runs alone (the command).
    Returns True when this call marked the chunk done."""
    chunk = EvaluationChunk.objects.select_related("run").get(pk=chunk_id)
    if chunk.status == ChunkStatus.DONE:
        return False
    run = chunk.run
    specs = _specs(run)
    dets = [s for s in specs if s.task == "detection"]
    vers = [s for s in specs if s.task == "verification"]
    items = list(run.items.filter(position__gte=chunk.start, position__lt=chunk.stop).order_by("position"))
    shas = {it.sha256 for it in items} | {it.enhanced_sha256 for it in items if it.enhanced_sha256}
    model_ids = {s.id for s in specs} | {engine.FACE_DETECTOR}
    have = set(ModelResult.objects.filter(content_sha256__in=shas, model_id__in=model_ids)
               .values_list("content_sha256", "model_id", "model_version", "variant", "task"))
    computed = reused = 0
    face_version = None
    stress_levels = stress.levels() if dets else []
    stress_tag = stress.config_tag() if stress_levels else ""
    for it in items:
        jobs: list[tuple[engine.Job, dict[str, Any] | None]] = []
        miss_d = [s for s in dets if (it.sha256, s.id, s.version, "original", "detection") not in have]
        miss_v = [s for s in vers if (it.sha256, s.id, s.version, "original", "embedding") not in have]
        reused += len(dets) + len(vers) - len(miss_d) - len(miss_v)
        hint = None
        extra_face = False
        if miss_v and it.face is None and not any(s.id == engine.FACE_DETECTOR for s in miss_d):
            cached = (ModelResult.objects.filter(content_sha256=it.sha256, model_id=engine.FACE_DETECTOR,
                                                 task="detection", variant="original")
                      .order_by("-created_at").first())
            if cached is not None:
                hint = cached.result.get("detections", [])
            else:
                # Compute the face detector's result too and keep it in the cache.
                if face_version is None:
                    face_version = str(engine.get_model(engine.FACE_DETECTOR, "detection").version)
                miss_d = [*miss_d, engine.ModelSpec(engine.FACE_DETECTOR, face_version, "detection")]
                extra_face = True
        if miss_d or miss_v:
            jobs.append((engine.Job(it.sha256, it.key, "original", miss_d, miss_v, it.face), hint))
        if it.enhanced_sha256:
            miss_e = [s for s in dets if (it.enhanced_sha256, s.id, s.version, "enhanced", "detection") not in have]
            reused += len(dets) - len(miss_e)
            if miss_e:
                jobs.append((engine.Job(it.enhanced_sha256, it.enhanced_key, "enhanced", miss_e, [], it.face), None))
        for job, job_hint in jobs:
            try:
                rows = engine.run_job(job, face_hint=job_hint)
            except OSError as exc:  # file gone (withdrawn meanwhile) or unreadable: the photo drops out
                logger.warning("evaluation %s: cannot read %s (%s)", run.pk, job.key, exc)
                continue
            ModelResult.objects.bulk_create([ModelResult(**r) for r in rows], ignore_conflicts=True)
            computed += len(rows) - (1 if extra_face and job.variant == "original" else 0)
            for r in rows:
                have.add((r["content_sha256"], r["model_id"], r["model_version"], r["variant"], r["task"]))
        if stress_levels:
            todo = stress.missing(it.sha256, dets, have, stress_tag, stress_levels)
            reused += 2 * len(dets) * len(stress_levels) - len(todo)
            if todo:
                try:
                    rows = stress.compute(it.sha256, it.key, todo, stress_tag)
                except OSError as exc:
                    logger.warning("evaluation %s: stress test cannot read %s (%s)", run.pk, it.key, exc)
                    rows = []
                ModelResult.objects.bulk_create([ModelResult(**r) for r in rows], ignore_conflicts=True)
                computed += len(rows)
        if on_item:
            on_item()

    def mark_done() -> bool:
        n = EvaluationChunk.objects.filter(pk=chunk.pk, status=ChunkStatus.PENDING).update(
            status=ChunkStatus.DONE, done_at=timezone.now(), computed=computed, reused=reused)
        if n:
            EvaluationRun.objects.filter(pk=run.pk).update(chunks_done=F("chunks_done") + 1,
                                                           computed=F("computed") + computed,
                                                           reused=F("reused") + reused)
        return bool(n)

    return atomic_write(mark_done)


def run_try_begin_finalise(*, run_id: int) -> bool:
    """Move a run whose chunks are all done to ``finalising``; True for exactly one caller."""
    if EvaluationChunk.objects.filter(run_id=run_id, status=ChunkStatus.PENDING).exists():
        return False
    return EvaluationRun.objects.filter(pk=run_id, status=RunStatus.RUNNING).update(status=RunStatus.FINALISING) == 1


def run_fail(*, run_id: int, error: str) -> None:
    EvaluationRun.objects.filter(pk=run_id, status__in=[RunStatus.RUNNING, RunStatus.FINALISING]).update(
        status=RunStatus.FAILED, error=error[:5000], finished_at=timezone.now())


# --- metrics -----------------------------------------------------------------------------

def _results(shas: list[str], spec: engine.ModelSpec, task: str, variant: str) -> dict[str, ModelResult]:
    out: dict[str, ModelResult] = {}
    uniq = sorted(set(shas))
    for lo in range(0, len(uniq), 900):  # keep IN lists short (SQLite's parameter limit)
        qs = ModelResult.objects.filter(content_sha256__in=uniq[lo:lo + 900], model_id=spec.id,
                                        model_version=spec.version, task=task, variant=variant)
        out.update({r.content_sha256: r for r in qs})
    return out


def _to_rows(run: EvaluationRun, spec: engine.ModelSpec, task: str, rows: list[M.MetricRow]) -> list[MetricResult]:
    return [MetricResult(run=run, model_id=spec.id, model_version=spec.version, task=task, category=r.category,
                         value=r.value[:200], metric=r.metric, estimate=r.estimate, n=r.n, ci_low=r.ci_low,
                         ci_high=r.ci_high, insufficient=r.insufficient, note=r.note[:120]) for r in rows]


def _detection_rows(run: EvaluationRun, spec: engine.ModelSpec, items: list[EvaluationItem], *, min_n: int,
                    n_boot: int) -> tuple[list[MetricResult], dict[str, Any]]:
    orig = _results([it.sha256 for it in items], spec, "detection", "original")
    enh = _results([it.enhanced_sha256 for it in items if it.enhanced_sha256], spec, "detection", "enhanced")
    keep = [it for it in items if it.sha256 in orig]
    hits = np.zeros(len(keep), dtype=bool)
    enh_hits = np.full(len(keep), np.nan)
    for i, it in enumerate(keep):
        box = it.face["box"] if it.face else None
        hits[i] = M.matched_face(orig[it.sha256].result.get("detections", []), box, min_score=engine.MIN_SCORE) is not None
        if it.enhanced_sha256 and it.enhanced_sha256 in enh:
            hit_e = M.matched_face(enh[it.enhanced_sha256].result.get("detections", []), box, min_score=engine.MIN_SCORE)
            enh_hits[i] = 1.0 if hit_e is not None else 0.0
    rows = M.detection_metrics(hits, [it.categories for it in keep], [it.subject for it in keep],
                               enhanced_hits=enh_hits, min_group_size=min_n, n_boot=n_boot, seed=0)
    low_rows, low_summary = stress.metric_rows(spec, keep, hits, results=_results, min_n=min_n, n_boot=n_boot)
    rows += low_rows
    summary = {"photos": len(keep), "missing_results": len(items) - len(keep), "detected": int(hits.sum()),
               "lowlight": low_summary,
               "with_enhanced": int((~np.isnan(enh_hits)).sum()),
               "rule": "IoU>=0.5 with the validated face" if any(it.face for it in keep)
               else "largest confident detection (one face expected)"}
    return _to_rows(run, spec, "detection", rows), summary


def _verification_rows(run: EvaluationRun, spec: engine.ModelSpec, items: list[EvaluationItem], *, min_n: int,
                       n_boot: int) -> tuple[list[MetricResult], list[CurveResult], dict[str, Any]]:
    verifier = engine.get_model(spec.id, "verification")
    res = _results([it.sha256 for it in items], spec, "embedding", "original")
    keep = [it for it in items if it.sha256 in res]
    valid = np.array([bool(res[it.sha256].embedding) for it in keep], dtype=bool)
    labels = [it.categories for it in keep]
    subjects = [it.subject for it in keep]
    out = _to_rows(run, spec, "verification",
                   M.proportion_metrics(~valid, labels, metric="failure_to_enrol", min_group_size=min_n))
    summary: dict[str, Any] = {"photos": len(keep), "enrolled": int(valid.sum()), "metric": verifier.metric,
                               "usual_threshold": float(verifier.threshold), "target_fmr": target_fmr()}
    curves: list[CurveResult] = []
    if valid.sum() < 2:
        summary["note"] = "fewer than two enrolled photos: no pairs"
        return out, curves, summary
    dim = next(np.frombuffer(bytes(res[it.sha256].embedding or b""), dtype=np.float32).size
               for it, ok in zip(keep, valid, strict=True) if ok)
    emb = np.zeros((len(keep), dim), dtype=np.float32)
    for i, (it, ok) in enumerate(zip(keep, valid, strict=True)):
        if ok:
            emb[i] = np.frombuffer(bytes(res[it.sha256].embedding or b""), dtype=np.float32)
    pairs = M.make_pairs(subjects, valid, max_impostor=tunables.EVAL_MAX_IMPOSTOR_PAIRS, seed=0)
    summary.update({"genuine_pairs": pairs.n_genuine, "impostor_pairs": pairs.n_impostor,
                    "impostor_pairs_total": pairs.impostor_total})
    if pairs.n_impostor == 0:
        summary["note"] = "no impostor pairs (a single subject)"
        return out, curves, summary
    d = M.pair_distances(emb, pairs.a, pairs.b, verifier.metric)
    tau, resolvable = M.threshold_at_fmr(d[~pairs.genuine], target_fmr())
    thresholds = {"target": tau, "usual": float(verifier.threshold)}
    summary.update({"threshold_target": tau, "target_resolvable": resolvable})
    if pairs.n_genuine == 0:
        summary["note"] = "no genuine pairs (one photo per subject): FNMR, EER and DET curves need several photos per person"
    rows, curv = M.verification_metrics(d, pairs, subjects, labels, thresholds=thresholds, min_group_size=min_n,
                                        n_boot=n_boot, seed=0)
    rows += [M.MetricRow(M.ALL, M.ALL, "threshold@target", tau, pairs.n_impostor, None, None, False,
                         "" if resolvable else "target FMR not resolvable: fewer than 1/target impostor pairs"),
             M.MetricRow(M.ALL, M.ALL, "threshold@usual", float(verifier.threshold), pairs.n_impostor)]
    out += _to_rows(run, spec, "verification", rows)
    curves = [CurveResult(run=run, model_id=spec.id, model_version=spec.version, category=c.category,
                          value=c.value[:200], points=c.points, n_genuine=c.n_genuine, n_impostor=c.n_impostor)
              for c in curv]
    return out, curves, summary


def run_finalise(*, run_id: int) -> EvaluationRun:
    """Compute and store every metric of a run whose chunks are done (status ``finalising``).

    Re-running it replaces the run's metrics (idempotent)."""
    run = EvaluationRun.objects.get(pk=run_id)
    if run.status != RunStatus.FINALISING:
        return run
    items = list(run.items.order_by("position"))
    min_n, n_boot = min_group_size(), bootstrap_replicates()
    metric_rows: list[MetricResult] = []
    curve_rows: list[CurveResult] = []
    summary: dict[str, Any] = {"items": len(items), "min_group_size": min_n, "bootstrap_replicates": n_boot,
                               "models": {}}
    for spec in _specs(run):
        if spec.task == "detection":
            rows, s = _detection_rows(run, spec, items, min_n=min_n, n_boot=n_boot)
            metric_rows += rows
        else:
            rows, curves, s = _verification_rows(run, spec, items, min_n=min_n, n_boot=n_boot)
            metric_rows += rows
            curve_rows += curves
        summary["models"][spec.id] = s

    def store() -> None:
        MetricResult.objects.filter(run=run).delete()
        CurveResult.objects.filter(run=run).delete()
        MetricResult.objects.bulk_create(metric_rows, batch_size=1000)
        CurveResult.objects.bulk_create(curve_rows, batch_size=200)
        run.status, run.finished_at, run.summary = RunStatus.DONE, timezone.now(), summary
        run.alerts = run_alerts(metric_rows)
        run.save(update_fields=["status", "finished_at", "summary", "alerts"])

    atomic_write(store)
    if run.alerts:
        transaction.on_commit(lambda: alert_notify(run_id=run.pk))
    return run


# --- alerts ------------------------------------------------------------------------------

def run_alerts(rows: Iterable[MetricResult]) -> list[dict[str, Any]]:
    """Gaps beyond ``EVAL_GAP_ALERT``: a detection-rate gap between groups, or an FMR ratio
    (worst / best group; an infinite ratio, where the best group made no false match, counts)."""
    limits = gap_limits()
    alerts: list[dict[str, Any]] = []
    for r in rows:
        if r.metric == "detection_gap" and r.estimate is not None and r.estimate > limits["detection_gap"]:
            alerts.append({"model": r.model_id, "category": r.category, "metric": r.metric, "estimate": r.estimate,
                           "ci_low": r.ci_low, "ci_high": r.ci_high, "limit": limits["detection_gap"]})
        elif r.metric.startswith("fmr_ratio@") and (
                (r.estimate is not None and r.estimate > limits["fmr_ratio"]) or r.note.startswith("infinite")):
            alerts.append({"model": r.model_id, "category": r.category, "metric": r.metric, "estimate": r.estimate,
                           "ci_low": r.ci_low, "ci_high": r.ci_high, "limit": limits["fmr_ratio"],
                           "note": r.note})
    return alerts


def _alert_text(run: EvaluationRun) -> str:
    lines = [f"Evaluation {run.pk} ({run.scope_key}) found gaps beyond the configured limits:", ""]
    for a in run.alerts:
        est = "infinite (best group had no errors)" if a.get("estimate") is None else f"{a['estimate']:.3g}"
        lines.append(f"- {a['model']}: {a['metric']} over {a['category']} = {est} (limit {a['limit']})")
    lines += ["", f"Details: {tunables.SITE_URL}/dashboard/?run={run.pk}"]
    return "\n".join(lines)


def alert_notify(*, run_id: int) -> bool:
    """E-mail the admins once per run (the conditional update makes a second call a no-op)."""
    if not EvaluationRun.objects.filter(pk=run_id, alert_sent_at__isnull=True).exclude(alerts=[]).update(
            alert_sent_at=timezone.now()):
        return False
    run = EvaluationRun.objects.get(pk=run_id)
    subject = f"Evaluation {run.pk}: {len(run.alerts)} gap(s) beyond the limit"
    body = _alert_text(run)
    mail_admins(subject, body, fail_silently=True)

    emails = list(get_user_model().objects.filter(groups__name=Role.ADMIN.value, is_active=True)
                  .values_list("email", flat=True).distinct())
    if emails:
        send_mail(f"[{tunables.SITE_NAME}] {subject}", body, None, emails, fail_silently=True)
    audit_record(actor=None, action="evaluation_alert_sent", obj=run, after={"alerts": len(run.alerts)})
    return True
