from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter

from facecommons.accounts.models import Role
from facecommons.accounts.roles import grant_role, is_moderator, user_has_role
from facecommons.accounts.services import user_has_current_consent

# After confirming the e-mail a new contributor is led on: consent, then the photo guidelines,
# then the upload page (each page links to the next).
ONBOARDING_URL = "/consent/?next=/guidelines/%3Fonboarding%3D1"


def _needs_onboarding(user: Any) -> bool:
    """A contributor (and nothing more) who has neither consented nor uploaded yet."""
    if user is None or not getattr(user, "is_authenticated", False) or user.is_staff:
        return False
    if is_moderator(user) or user_has_role(user, Role.RESEARCHER):
        return False
    return not user_has_current_consent(user) and not user.contributions.exists()


class AccountAdapter(DefaultAccountAdapter):
    def get_email_verification_redirect_url(self, email_address: Any) -> str:
        if _needs_onboarding(getattr(email_address, "user", None)):
            return ONBOARDING_URL
        return str(super().get_email_verification_redirect_url(email_address))

    def get_signup_redirect_url(self, request: Any) -> str:
        # Where the login that follows the e-mail confirmation goes (allauth remembers it at
        # sign-up): everyone who signs up is a new contributor.
        return ONBOARDING_URL

    def get_login_redirect_url(self, request: Any) -> str:
        # Also reached when confirming the e-mail logs the new contributor in.
        if _needs_onboarding(getattr(request, "user", None)):
            return ONBOARDING_URL
        return str(super().get_login_redirect_url(request))

    def save_user(self, request: Any, user: Any, form: Any, commit: bool = True) -> Any:
        user = super().save_user(request, user, form, commit=commit)
        if commit:
            grant_role(user, Role.CONTRIBUTOR)  # everyone who signs up is a contributor
        return user
