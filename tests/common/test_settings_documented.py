"""Every tunable read with facecommons.common.conf.setting() is documented in docs/settings.md."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_setting_is_documented():
    used = set()
    for path in (ROOT / "platform").rglob("*.py"):
        used |= set(re.findall(r'\bsetting\(\s*"([A-Z][A-Z0-9_]+)"', path.read_text()))
    documented = set(re.findall(r"`([A-Z][A-Z0-9_]+)`", (ROOT / "docs" / "settings.md").read_text()))
    assert used, "no settings found: the pattern no longer matches the code"
    assert not used - documented, f"undocumented settings: {sorted(used - documented)}"
