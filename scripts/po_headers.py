"""Set the project's headers on every catalogue (run by `make messages` after makemessages)."""

from __future__ import annotations

from pathlib import Path

import polib

ROOT = Path(__file__).resolve().parents[1]

for path in sorted((ROOT / "locale").glob("*/LC_MESSAGES/*.po")):
    po = polib.pofile(str(path), wrapwidth=120)
    lang = path.parent.parent.name
    po.metadata.update({
        "Project-Id-Version": "Face Commons",
        "Language-Team": f"Face Commons {lang}",
        "Last-Translator": "Face Commons maintainers",
        "PO-Revision-Date": po.metadata.get("POT-Creation-Date", ""),
        "Language": lang,
    })
    po.metadata_is_fuzzy = False
    po.header = "Face Commons interface strings. Extract with `make messages`, compile with `make compilemessages`."
    po.save()
