"""The archive package: free of snapshot state, and its documents and splits pure (no database:
these tests have no django_db mark, so a query would fail them)."""

from __future__ import annotations

import ast
import io
from datetime import UTC, datetime
from pathlib import Path

import pytest

ARCHIVE = Path(__file__).resolve().parents[2] / "platform" / "facecommons" / "releases" / "archive"
# What knows about snapshot state, or about the build putting the archive together.
STATEFUL = ("facecommons.releases.state", "facecommons.releases.build", "facecommons.releases.services",
            "facecommons.releases.tasks")
# Modules that compute from plain data: no models, no queries.
PURE = ("documents", "croissant", "splits", "rows", "manifest", "tarstream")


def _imports(path: Path) -> set[str]:
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
            out.update(f"{node.module}.{a.name}" for a in node.names)
    return out


@pytest.mark.parametrize("path", sorted(ARCHIVE.glob("*.py")), ids=lambda p: p.name)
def test_the_archive_knows_nothing_of_snapshot_state(path):
    imported = _imports(path)
    assert not [m for m in imported if m.startswith(STATEFUL)]
    if path.stem in PURE:
        assert not [m for m in imported if m.startswith(("django.db", "facecommons.releases.models",
                                                         "facecommons.releases.selectors"))]


def _context(previous=None, purge_of=None, photos=3):
    from facecommons.releases.archive.documents import Composition, DocumentContext

    schema = [("gender", False), ("accessories", True)]
    comp = Composition(schema=schema, k=5)
    for i in range(photos):
        comp.add({"subject_id": f"s-{i}", "gender": "woman", "accessories": ["glasses"]}, "train")
    counts = {**comp.counts(), "previous": previous, "added_photos": photos, "added_subjects": photos,
              "removed_photos": 1, "removed_subjects": 1}
    return DocumentContext(version="2026.11.2", cutoff_at=datetime(2026, 11, 27, 12, 0, tzinfo=UTC),
                           previous=previous, purge_of=purge_of, counts=counts, composition=comp, schema=schema,
                           parquet_sha256="ab" * 32, parquet_size=1234, evaluation_findings="Latest evaluation: none.")


def test_documents_are_functions_of_plain_data():
    import json

    from facecommons.releases.archive import documents
    from facecommons.releases.archive.croissant import croissant

    ctx = _context(previous="2026.11.1", purge_of="2026.11.1")
    sheet = documents.datasheet(ctx)
    assert "snapshot 2026.11.2" in sheet and "Cut-off: 2026-11-27 12:00 UTC" in sheet
    assert "fewer than 5" in sheet  # 3 photos: suppressed
    doc = json.loads(croissant(ctx))
    assert doc["version"] == "2026.11.2" and doc["distribution"][0]["sha256"] == "ab" * 32
    assert doc["rai:dataBiases"].endswith("Latest evaluation: none.")
    out = io.BytesIO()
    documents.changelog(ctx, [("Added people", iter(["s-1", "s-2"])), ("Removed files", iter(["train/x.jpg"]))], out)
    text = out.getvalue().decode()
    assert "Compared with snapshot 2026.11.1:" in text
    assert "- This is a purged rebuild of 2026.11.1: every withdrawn person is left out." in text
    assert "## Added people\n\n- s-1\n- s-2\n" in text and "## Removed files\n\n- train/x.jpg\n" in text


def test_the_first_changelog_lists_no_sections():
    from facecommons.releases.archive import documents

    out = io.BytesIO()
    documents.changelog(_context(), [("Added people", iter(["s-1"]))], out)
    assert out.getvalue().decode() == "# Changelog: snapshot 2026.11.2\n\nFirst snapshot: 3 photos of 3 people.\n"
