"""Personal API tokens for researchers.

Keys look like ``fcr_<random>``; only their SHA-256 is stored. The class claims a key only
when it has that prefix, so the account tokens (``fct_`` keys from ``/api/v1/auth/token/``,
accounts/tokens.py) keep working alongside it, under ``Token`` or ``Bearer``. Only the
release endpoints list this class: that is the personal token's scope.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext
from rest_framework import authentication, exceptions

from facecommons.common.api import ApiError
from facecommons.releases.models import TOKEN_PREFIX, ResearcherToken
from facecommons.releases.services import token_hash


class PersonalTokenAuthentication(authentication.BaseAuthentication):
    keywords = ("bearer", "token")

    def authenticate(self, request: Any) -> tuple[Any, ResearcherToken] | None:
        parts = authentication.get_authorization_header(request).split()
        if len(parts) != 2 or parts[0].decode(errors="replace").lower() not in self.keywords:
            return None
        try:
            key = parts[1].decode()
        except UnicodeDecodeError:
            return None
        if not key.startswith(TOKEN_PREFIX):
            return None  # not ours: ApiTokenAuthentication may claim it

        token = ResearcherToken.objects.select_related("user").filter(key_hash=token_hash(key)).first()
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid token.")
        if token.revoked_at is not None:
            # A known credential that its owner switched off: forbidden, not unauthenticated.
            raise ApiError(gettext("This token has been revoked."), code="token_revoked", status_code=403)
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("This account is inactive.")
        now = timezone.now()
        if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
            ResearcherToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user, token

    def authenticate_header(self, request: Any) -> str:
        return 'Bearer realm="api"'


try:  # the OpenAPI schema describes the scheme (drf-spectacular picks extensions up on import)
    from drf_spectacular.extensions import OpenApiAuthenticationExtension

    class PersonalTokenScheme(OpenApiAuthenticationExtension):  # type: ignore[misc]
        target_class = "facecommons.releases.auth.PersonalTokenAuthentication"
        name = "researcherToken"

        def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
            # The same header as the API token (an apiKey, so the docs' "Authorize" box takes the
            # whole value): one way to send a key, whichever kind it is.
            return {"type": "apiKey", "in": "header", "name": "Authorization",
                    "description": "Personal researcher token, created at /research/: send "
                                   "`Authorization: Token fcr_…` (`Bearer fcr_…` is accepted too)."}
except ImportError:  # pragma: no cover
    pass
