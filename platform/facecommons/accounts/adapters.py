from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter

from facecommons.accounts.models import Role
from facecommons.accounts.roles import grant_role


class AccountAdapter(DefaultAccountAdapter):
    def save_user(self, request: Any, user: Any, form: Any, commit: bool = True) -> Any:
        user = super().save_user(request, user, form, commit=commit)
        if commit:
            grant_role(user, Role.CONTRIBUTOR)  # everyone who signs up is a contributor
        return user
