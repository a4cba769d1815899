"""API tokens: issue, authenticate, list, revoke, and revoke everything on a credential change.

Each call to ``/api/v1/auth/token/`` (or "Create a token" on the account page) issues a new
token with a name and an expiry (``API_TOKEN_TTL_DAYS``). A token is bound to the user's
session hash (``User.get_session_auth_hash``), so it dies with the password whatever path
changed it; the password hooks in ``receivers.py`` also delete the rows and revoke the
researchers' personal tokens (releases app), which are otherwise left with their own scope.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from rest_framework import authentication, exceptions

from facecommons.accounts.models import API_TOKEN_PREFIX, ApiToken, User
from facecommons.common.audit import audit_record
from facecommons.common.tunables import tunables
from facecommons.releases.models import TOKEN_PREFIX as PERSONAL_PREFIX
from facecommons.releases.models import ResearcherToken

# Writing last_used_at on every request would make each API call a write; a minute is
# precise enough for "last used" on the account page.
LAST_USED_RESOLUTION = timedelta(seconds=60)


def api_token_ttl() -> timedelta:
    return timedelta(days=tunables.API_TOKEN_TTL_DAYS)


def token_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def api_token_issue(*, user: User, name: str = "") -> tuple[ApiToken, str]:
    """A new token for ``user``; returns the row and the key (shown once, never stored)."""
    key = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = timezone.now()
    token = ApiToken.objects.create(
        user=user, name=(name.strip() or "API token")[:100], key_hash=token_hash(key), prefix=key[:10],
        created_at=now, expires_at=now + api_token_ttl(), auth_hash=user.get_session_auth_hash())
    audit_record(actor=user, action="api_token_issued", obj=user, after={"token": token.prefix, "name": token.name})
    return token, key


def api_token_list(*, user: Any) -> QuerySet[ApiToken]:
    """The user's tokens that still work, newest first."""
    return ApiToken.objects.filter(user=user, expires_at__gt=timezone.now(),
                                   auth_hash=user.get_session_auth_hash())


def api_token_revoke(*, user: Any, token_id: int) -> bool:
    deleted, _ = ApiToken.objects.filter(user=user, pk=token_id).delete()
    if deleted:
        audit_record(actor=user, action="api_token_revoked", obj=user, after={"token_id": token_id})
    return bool(deleted)


def api_tokens_revoke_all(*, user: Any, reason: str) -> None:
    """Delete every API token of ``user`` and revoke the researcher's personal tokens."""
    now = timezone.now()
    with transaction.atomic():
        api_deleted, _ = ApiToken.objects.filter(user=user).delete()
        personal = ResearcherToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=now)
        if api_deleted or personal:
            audit_record(actor=user, action="api_tokens_revoked", obj=user,
                         after={"reason": reason, "api_tokens": api_deleted, "personal_tokens": personal})


def account_logout_everywhere(*, user: User) -> None:
    """End every session and token of ``user`` (the caller logs the current request out)."""
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(auth_epoch=F("auth_epoch") + 1)
        user.refresh_from_db(fields=["auth_epoch"])
        api_tokens_revoke_all(user=user, reason="logout_everywhere")
        audit_record(actor=user, action="logged_out_everywhere", obj=user)


def api_token_authenticate(key: str) -> tuple[User, ApiToken] | None:
    """The user and token of ``key`` if it is valid now, else None."""
    if not key.startswith(API_TOKEN_PREFIX):
        return None
    token = ApiToken.objects.select_related("user").filter(key_hash=token_hash(key)).first()
    if token is None:
        return None
    user = token.user
    now = timezone.now()
    if (token.expires_at <= now or not user.is_active or user.withdrawn_at is not None
            or not constant_time_compare(token.auth_hash, user.get_session_auth_hash())):
        return None
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return user, token


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """``Authorization: Token fct_…`` (or ``Bearer``). Keys of other schemes (a researcher's
    ``fcr_…``) are left to their own class, which only the release endpoints list."""

    keywords = (b"token", b"bearer")

    def authenticate(self, request: Any) -> tuple[User, ApiToken] | None:
        parts = authentication.get_authorization_header(request).split()
        if not parts or parts[0].lower() not in self.keywords:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Invalid token header.")
        try:
            key = parts[1].decode()
        except UnicodeDecodeError as exc:
            raise exceptions.AuthenticationFailed("Invalid token header.") from exc

        if key.startswith(PERSONAL_PREFIX):
            return None
        found = api_token_authenticate(key)
        if found is None:
            raise exceptions.AuthenticationFailed("Invalid or expired token.")
        return found

    def authenticate_header(self, request: Any) -> str:
        return 'Token realm="api"'


try:  # the OpenAPI schema describes the scheme (drf-spectacular picks extensions up on import)
    from drf_spectacular.extensions import OpenApiAuthenticationExtension

    class ApiTokenScheme(OpenApiAuthenticationExtension):  # type: ignore[misc]
        target_class = "facecommons.accounts.tokens.ApiTokenAuthentication"
        name = "tokenAuth"

        def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
            return {"type": "apiKey", "in": "header", "name": "Authorization",
                    "description": "API token from POST /api/v1/auth/token/ or the account page: send "
                                   "`Authorization: Token fct_…` (`Bearer fct_…` is accepted too)."}
except ImportError:  # pragma: no cover
    pass
