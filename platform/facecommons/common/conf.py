"""Platform settings with defaults, read from Django settings or the environment.

Each app reads its tunables through :func:`setting`, so a value can be set in a settings
module (tests use ``override_settings``) or as an environment variable of the same name.
"""

from __future__ import annotations

import os
from typing import Any, TypeVar

from django.conf import settings

T = TypeVar("T")


def setting(name: str, default: T) -> T:
    """Django setting ``name`` if defined, else environment variable ``name``, else default.

    The environment value is converted to the default's type (bool, int, float, str).
    """
    if hasattr(settings, name):
        return getattr(settings, name)  # type: ignore[no-any-return]
    raw = os.environ.get(name)
    if raw is None:
        return default
    value: Any
    if isinstance(default, bool):
        value = raw.strip().lower() in {"1", "true", "yes", "on"}
    elif isinstance(default, int):
        value = int(raw)
    elif isinstance(default, float):
        value = float(raw)
    else:
        value = raw
    return value  # type: ignore[no-any-return]
