"""Account services (HackSoft style: keyword-only, ``<entity>_<action>``)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from facecommons.accounts.models import ConsentAcceptance, ConsentVersion, Role, User
from facecommons.accounts.roles import grant_role


def consent_current() -> ConsentVersion | None:
    return (ConsentVersion.objects.filter(published_at__isnull=False, published_at__lte=timezone.now())
            .order_by("-version").first())


def user_has_current_consent(user: User) -> bool:
    current = consent_current()
    if current is None or not user.is_authenticated or user.withdrawn_at is not None:
        return False
    return ConsentAcceptance.objects.filter(user=user, version=current, adult_confirmed=True,
                                            withdrawn_at__isnull=True).exists()


def consent_accept(*, user: User, version: int, adult: bool) -> ConsentAcceptance:
    """Record acceptance of ``version``; it must be the current one and ``adult`` true."""
    current = consent_current()
    if current is None:
        raise ValueError("There is no consent text to accept yet.")
    if version != current.version:
        raise ValueError(f"Version {version} is not the current consent (v{current.version}); please read and accept the current one.")
    if not adult:
        raise ValueError("You must confirm that you are 18 or older to take part.")
    acceptance, _ = ConsentAcceptance.objects.update_or_create(
        user=user, version=current,
        defaults={"adult_confirmed": True, "accepted_at": timezone.now(), "withdrawn_at": None},
    )
    return acceptance


@transaction.atomic
def account_create(*, email: str, password: str, role: Role | str = Role.CONTRIBUTOR) -> User:
    """Create a verified, active account with ``role`` (contributors get only that role)."""
    from allauth.account.models import EmailAddress

    email = email.strip().lower()
    if User.objects.filter(email__iexact=email).exists():
        raise ValueError(f"An account with {email} already exists.")
    user = User.objects.create_user(email=email, password=password)
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    grant_role(user, Role.CONTRIBUTOR)
    if Role(role) != Role.CONTRIBUTOR:
        grant_role(user, role)
    return user
