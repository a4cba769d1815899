"""Import a labelled external collection: ``manage.py import_dataset --format utkface PATH --name NAME``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.text import slugify
from tqdm import tqdm

from facecommons.evaluation import services
from facecommons.evaluation.models import ExternalFormat


class Command(BaseCommand):
    help = ("Import a labelled face collection as a separate external source for evaluation (never part of a "
            "crowdsourced snapshot). Formats: utkface (folder), fairface (CSV file,age,gender,race), csv "
            "(file,subject,age_range,gender,ethnicity,skin_tone; see docs/evaluation.md).")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path")
        parser.add_argument("--format", required=True, choices=ExternalFormat.values)
        parser.add_argument("--name", default="", help="source name (slug); default: the folder or file name")
        parser.add_argument("--licence", default="", help="the collection's licence (recorded with the source)")
        parser.add_argument("--provenance", default="", help="where it comes from: URL, version, citation")

    def handle(self, *args: Any, **opts: Any) -> None:
        path = Path(opts["path"]).expanduser()
        name = slugify(opts["name"] or path.stem or path.name)[:60]
        if not name:
            raise CommandError("Give the source a --name.")
        licence = opts["licence"] or "unknown (not given at import)"
        provenance = opts["provenance"] or f"imported from {path}"
        with tqdm(unit="file", disable=None, file=self.stderr._out) as bar:  # type: ignore[attr-defined]
            try:
                report = services.external_source_import(fmt=opts["format"], path=path, name=name, licence=licence,
                                                         provenance=provenance, on_progress=lambda: bar.update(1))
            except services.EvaluationError as exc:
                raise CommandError(str(exc)) from exc
        for line in report.problems[:50]:
            self.stdout.write(self.style.WARNING(f"skipped {line}"))
        if len(report.problems) > 50:
            self.stdout.write(self.style.WARNING(f"... and {len(report.problems) - 50} more"))
        skipped = ", ".join(f"{k}: {v}" for k, v in sorted(report.skipped.items())) or "none"
        self.stdout.write(self.style.SUCCESS(
            f"Source {report.source.name!r}: {report.imported} images imported ({report.source.image_count} in all); "
            f"skipped {skipped}."))
