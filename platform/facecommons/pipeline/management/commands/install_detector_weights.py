"""Install an operator-supplied detector weights file after checking that it loads.

    python manage.py install_detector_weights retinaface-resnet50 /path/to/Resnet50_Final.pth
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from ml.detectors.retinaface_resnet50 import default_weights_path, file_sha256, load_network

SUPPORTED = {"retinaface-resnet50"}


class Command(BaseCommand):
    help = "Verify a detector weights file (it must load into the network) and copy it into place."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("detector", choices=sorted(SUPPORTED))
        parser.add_argument("path", help="the weights file, e.g. Resnet50_Final.pth")

    def handle(self, *args: Any, **opts: Any) -> None:
        src = Path(opts["path"]).expanduser()
        if not src.is_file():
            raise CommandError(f"{src} is not a file.")
        try:
            load_network(src)
        except ValueError as exc:
            raise CommandError(f"{src} was not installed: {exc}") from exc
        sha = file_sha256(src)
        target = default_weights_path()
        target.parent.mkdir(parents=True, exist_ok=True)
        # Copy next to the target and rename: a reader never sees a half-written file.
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=target.suffix)
        os.close(fd)
        try:
            shutil.copyfile(src, tmp)
            if file_sha256(Path(tmp)) != sha:
                raise CommandError("The copy does not match the source (disk error?); nothing was installed.")
            os.replace(tmp, target)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        manifest = target.parent / "MANIFEST.json"
        entries = json.loads(manifest.read_text()) if manifest.exists() else {}
        entries[opts["detector"]] = {"file": target.name, "sha256": sha, "source": str(src)}
        manifest.write_text(json.dumps(entries, indent=2, sort_keys=True) + "\n")
        self.stdout.write(self.style.SUCCESS(f"Installed {opts['detector']} weights at {target} (sha256 {sha})."))
