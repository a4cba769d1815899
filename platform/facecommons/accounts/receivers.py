"""Reactions of the accounts app to its own model and to migrate (connected in AccountsConfig.ready)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.sites.models import Site

from facecommons.accounts.tokens import api_tokens_revoke_all
from facecommons.common.tunables import tunables


def revoke_tokens_on_password_change(sender: Any, instance: Any, created: bool = False, **kwargs: Any) -> None:
    """A changed, set or reset password ends every API and personal token of the account.

    ``AbstractBaseUser.set_password`` keeps the new raw password in ``_password`` until the
    save that follows it has sent ``post_save``: that is how a password change is told apart
    from any other save, whichever form or command made it. API tokens already fail (they are
    bound to the old password's hash); this deletes them and revokes the researcher's personal
    tokens, which are not bound to the password.
    """
    if not created and getattr(instance, "_password", None) is not None:
        api_tokens_revoke_all(user=instance, reason="password_changed")


def site_from_settings(sender: Any, **kwargs: Any) -> None:
    """After every migrate: the current Site is named ``SITE_NAME`` at ``SITE_URL``'s host."""
    domain = urlsplit(tunables.SITE_URL).netloc or "localhost"
    Site.objects.update_or_create(pk=settings.SITE_ID, defaults={"domain": domain[:100], "name": tunables.SITE_NAME[:50]})
