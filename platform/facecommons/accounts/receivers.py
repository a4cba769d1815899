"""Reactions of the accounts app to changes of its own model (connected in AccountsConfig.ready)."""

from __future__ import annotations

from typing import Any


def revoke_tokens_on_password_change(sender: Any, instance: Any, created: bool = False, **kwargs: Any) -> None:
    """A changed, set or reset password ends every API and personal token of the account.

    ``AbstractBaseUser.set_password`` keeps the new raw password in ``_password`` until the
    save that follows it has sent ``post_save``: that is how a password change is told apart
    from any other save, whichever form or command made it. API tokens already fail (they are
    bound to the old password's hash); this deletes them and revokes the researcher's personal
    tokens, which are not bound to the password.
    """
    from facecommons.accounts.tokens import api_tokens_revoke_all  # lazy: tokens imports the models

    if not created and getattr(instance, "_password", None) is not None:
        api_tokens_revoke_all(user=instance, reason="password_changed")
