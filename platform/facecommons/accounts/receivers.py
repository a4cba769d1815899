"""Reactions of the accounts app to allauth's password events (connected in AccountsConfig.ready)."""

from __future__ import annotations

from typing import Any


def revoke_tokens_on_password_change(sender: Any, request: Any = None, user: Any = None, **kwargs: Any) -> None:
    """A changed, set or reset password ends every API and personal token of the account.

    API tokens already fail (they are bound to the old password's hash); this deletes them
    and revokes the researcher's personal tokens, which are not bound to the password.
    """
    from facecommons.accounts.tokens import api_tokens_revoke_all

    if user is not None and getattr(user, "pk", None) is not None:
        api_tokens_revoke_all(user=user, reason="password_changed")
