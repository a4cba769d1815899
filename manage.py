#!/usr/bin/env python
"""Django's command-line utility.

``platform/`` is a source folder, not a package (a package named ``platform`` would shadow
the standard library): it goes on ``sys.path`` here, as in wsgi/asgi/celery and pytest.
"""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent


def main() -> None:
    for p in (ROOT / "platform", ROOT):
        if str(p) not in sys.path:
            sys.path.insert(0, str(p))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
