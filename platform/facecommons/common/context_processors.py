from typing import Any

from django.conf import settings
from django.http import HttpRequest

from facecommons.common.tunables import tunables


def site(request: HttpRequest) -> dict[str, Any]:
    return {
        "SITE_NAME": settings.SITE_NAME,
        "WEB_MONETIZATION_POINTER": tunables.WEB_MONETIZATION_POINTER,
    }
