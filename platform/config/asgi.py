"""ASGI entry point."""

import os
import sys
from pathlib import Path

_SOURCE = Path(__file__).resolve().parents[1]
for p in (_SOURCE, _SOURCE.parent):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

from django.core.asgi import get_asgi_application  # noqa: E402

application = get_asgi_application()
