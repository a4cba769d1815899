"""Every interface string is translated (fresh extraction)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest

from tests.common.test_i18n import DOMAINS, ROOT, SHIPPED, _locale_dir, _untranslated


@pytest.mark.skipif(shutil.which("xgettext") is None or shutil.which("msgmerge") is None,
                    reason="GNU gettext is not installed: run `make gettext-deps` (apt-get install gettext)")
def test_every_interface_string_is_translated(tmp_path: Path) -> None:
    """Extract afresh (into a copy) and require a translation of every entry in every locale."""
    copy = tmp_path / "src"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.mo")
    # ml/ and enhancement/ too: the site imports them when its apps are ready (the pipeline's
    # and evaluation's receivers), as `make messages` in the repository does.
    for name in ("platform", "ml", "enhancement", "templates", "static", "locale", "scripts"):
        shutil.copytree(ROOT / name, copy / name, ignore=ignore)
    shutil.copy2(ROOT / "manage.py", copy / "manage.py")
    env = {**os.environ, "PY": sys.executable, "DJANGO_SETTINGS_MODULE": "config.settings.test",
           "VAR_DIR": str(tmp_path / "var")}
    proc = subprocess.run(["sh", str(copy / "scripts" / "messages.sh")], cwd=copy, env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    problems = {}
    for code in SHIPPED:
        for domain in DOMAINS:
            po = polib.pofile(str(copy / "locale" / _locale_dir(code) / "LC_MESSAGES" / f"{domain}.po"))
            assert len(po) > 20, f"{code}/{domain}: extraction found almost nothing"
            bad = _untranslated(po)
            if bad:
                problems[f"{code}/{domain}"] = bad[:10]
    assert not problems, ("Interface strings without a translation (run `make messages`, translate the "
                          f"new entries, then `make compilemessages`): {problems}")


