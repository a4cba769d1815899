"""Run one evaluation in the foreground: ``manage.py evaluate [--snapshot V | --source NAME] [--models a,b]``."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from facecommons.evaluation import services
from facecommons.evaluation.models import ChunkStatus, EvaluationRun, MetricResult, RunScope, RunStatus


class Command(BaseCommand):
    help = "Evaluate the reference face models per demographic group, in the foreground, with a progress bar."

    def add_arguments(self, parser: CommandParser) -> None:
        scope = parser.add_mutually_exclusive_group()
        scope.add_argument("--snapshot", metavar="VERSION", help="a published snapshot (default: current approved set)")
        scope.add_argument("--source", metavar="NAME", help="an external source imported with import_dataset")
        parser.add_argument("--models", default="", help="comma-separated model ids (default: every registered model)")
        parser.add_argument("--resume", action="store_true",
                            help="finish the scope's active run (e.g. after a worker died) instead of starting one")
        parser.add_argument("--chunk-size", type=int, default=None)

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["snapshot"]:
            scope, key = RunScope.SNAPSHOT, f"snapshot:{opts['snapshot']}"
        elif opts["source"]:
            scope, key = RunScope.SOURCE, f"source:{opts['source']}"
        else:
            scope, key = RunScope.CURRENT, "current"
        models = [m.strip() for m in opts["models"].split(",") if m.strip()] or None
        if opts["resume"]:
            run = EvaluationRun.objects.filter(scope_key=key, status__in=[RunStatus.RUNNING, RunStatus.FINALISING]).first()
            if run is None:
                raise CommandError(f"No active evaluation of {key} to resume.")
        else:
            try:
                run = services.evaluation_run_start(scope=scope, snapshot_version=opts["snapshot"] or "",
                                                    source_name=opts["source"] or "", models=models,
                                                    trigger="command", size=opts["chunk_size"])
            except services.RunAlreadyActive as exc:
                raise CommandError(f"{exc} Use --resume to finish it here.") from exc
            except services.EvaluationError as exc:
                raise CommandError(str(exc)) from exc
        for u in run.unavailable:
            self.stdout.write(self.style.WARNING(f"{u['id']}: not available: {u['message']}"))
        self.stdout.write(f"Evaluation {run.pk} of {run.scope_key}: {run.items_total} photos, models "
                          + ", ".join(f"{m['id']}@{m['version']}" for m in run.model_specs))
        pending = list(run.chunks.filter(status=ChunkStatus.PENDING).order_by("index"))
        done_items = run.items_total - sum(c.stop - c.start for c in pending)
        try:
            with tqdm(total=run.items_total, initial=done_items, unit="photo", disable=None,
                      file=self.stderr._out) as bar:  # type: ignore[attr-defined]
                for chunk in pending:
                    services.chunk_process(chunk_id=chunk.pk, on_item=lambda: bar.update(1))
            services.run_try_begin_finalise(run_id=run.pk)
            self.stdout.write("Computing metrics…")
            run = services.run_finalise(run_id=run.pk)
        except Exception as exc:
            services.run_fail(run_id=run.pk, error=repr(exc))
            raise
        run.refresh_from_db()
        self._summary(run)

    def _summary(self, run: EvaluationRun) -> None:
        self.stdout.write(self.style.SUCCESS(
            f"Evaluation {run.pk} {run.status}: {run.computed} model results computed, {run.reused} taken from the cache."))
        for spec in run.model_specs:
            s = run.summary.get("models", {}).get(spec["id"], {})
            qs = MetricResult.objects.filter(run=run, model_id=spec["id"])
            if spec["task"] == "detection":
                overall = qs.filter(metric="detection_rate", category="all").first()
                line = f"  {spec['id']}: detection rate " + (
                    f"{overall.estimate:.3f} [{overall.ci_low:.3f}, {overall.ci_high:.3f}] n={overall.n}"
                    if overall and overall.estimate is not None else "insufficient data")
                gaps = qs.filter(metric="detection_gap").exclude(estimate=None).order_by("-estimate")[:1]
                if gaps:
                    line += f"; largest gap {gaps[0].estimate:.3f} over {gaps[0].category}"
            else:
                line = (f"  {spec['id']}: {s.get('enrolled', 0)}/{s.get('photos', 0)} enrolled, "
                        f"{s.get('genuine_pairs', 0)} genuine / {s.get('impostor_pairs', 0)} impostor pairs")
                for name in ("target", "usual"):
                    fmr = qs.filter(metric=f"fmr@{name}", category="all").first()
                    fnmr = qs.filter(metric=f"fnmr@{name}", category="all").first()
                    fmt = lambda r: "n/a" if r is None or r.estimate is None else f"{r.estimate:.4f}"  # noqa: E731
                    line += f"; @{name}: FMR {fmt(fmr)} FNMR {fmt(fnmr)}"
                if s.get("note"):
                    line += f" ({s['note']})"
            self.stdout.write(line)
        for a in run.alerts:
            est = "∞" if a.get("estimate") is None else f"{a['estimate']:.3g}"
            self.stdout.write(self.style.WARNING(f"  ALERT {a['model']}: {a['metric']} over {a['category']} = {est} "
                                                 f"(limit {a['limit']})"))
