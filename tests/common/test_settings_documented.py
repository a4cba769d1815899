"""The platform's tunables: declared once in facecommons.common.tunables, read there, documented
in docs/settings.md generated from the declarations."""

import re
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from facecommons.common import tunables as module
from facecommons.common.tunables import Tunables, tunables

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [p for d in ("platform", "ml", "enhancement") for p in (ROOT / d).rglob("*.py")]
NAMES = {t.name for t in module.declared()}


def test_docs_settings_is_generated_from_the_declarations():
    call_command("settings_doc", "--check")  # CommandError (a failure) when docs/settings.md is stale


def test_check_fails_on_a_stale_file(settings, tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "settings.md").write_text(module.__doc__ or "")
    settings.ROOT_DIR = tmp_path
    with pytest.raises(CommandError, match="stale"):
        call_command("settings_doc", "--check")
    call_command("settings_doc")
    call_command("settings_doc", "--check")
    text = (tmp_path / "docs" / "settings.md").read_text()
    assert all(f"`{name}`" in text for name in NAMES)


def test_no_call_site_restates_a_default():
    """Nothing reads a tunable past the module: no setting(NAME, default), no getattr(settings,
    NAME, default), no env.int(NAME, default=...) in a settings module."""
    offenders = []
    for path in SOURCES:
        text = path.read_text()
        for name in re.findall(r"""(?:\bsetting\(|getattr\(settings,|env\.\w+\()\s*["']([A-Z][A-Z0-9_]+)["']""", text):
            if name in NAMES:
                offenders.append(f"{path.relative_to(ROOT)}: {name}")
        if "facecommons.common.conf" in text:
            offenders.append(f"{path.relative_to(ROOT)}: imports facecommons.common.conf")
    assert not offenders


def test_every_tunable_is_read_and_every_read_is_declared():
    read: set[str] = set()
    for path in SOURCES:
        if path.name not in {"tunables.py", "settings_doc.py"}:  # their prose says tunables.NAME
            read |= set(re.findall(r"\b[Tt]unables\.([A-Z][A-Z0-9_]+)\b", path.read_text()))
    assert read, "no tunable reads found: the pattern no longer matches the code"
    assert not read - NAMES, f"read but not declared: {sorted(read - NAMES)}"
    assert not NAMES - read, f"declared but never read: {sorted(NAMES - read)}"


def test_settings_then_environment_then_default(settings, monkeypatch):
    assert tunables.EVAL_CHUNK_LEASE_SECONDS == 30
    monkeypatch.setenv("EVAL_CHUNK_LEASE_SECONDS", "45")
    assert tunables.EVAL_CHUNK_LEASE_SECONDS == 45  # converted to the declared int
    settings.EVAL_CHUNK_LEASE_SECONDS = "60"
    assert tunables.EVAL_CHUNK_LEASE_SECONDS == 60  # the settings module wins, converted too
    monkeypatch.setenv("RELEASES_BLOB_LINK", "off")
    assert tunables.RELEASES_BLOB_LINK is False
    monkeypatch.setenv("EVAL_GAP_ALERT", '{"fmr_ratio": 3}')
    assert tunables.EVAL_GAP_ALERT == {"fmr_ratio": 3}
    assert module.get("RELEASES_BLOB_LINK") is False
    with pytest.raises(AttributeError):
        module.get("NOT_A_TUNABLE")


def test_derived_defaults(settings):
    """Defaults computed at read time follow what they come from."""
    from facecommons.pipeline.analysis import Thresholds

    assert tunables.PIPELINE_MIN_SHARPNESS == Thresholds.min_sharpness
    settings.SITE_URL = "https://faces.example/"
    assert tunables.RELEASES_LICENSE_URL == "https://faces.example/research/"
    assert Tunables.SITE_URL.default == "http://localhost:8000"
