"""Release services: researcher access, tokens, snapshot requests (withdrawals: ``withdrawals.py``;
snapshot state: ``state.py``).

HackSoft style: keyword-only ``<entity>_<action>`` writes; reads are in ``selectors.py``.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from facecommons.accounts.models import Role
from facecommons.accounts.roles import grant_role, is_admin
from facecommons.common.audit import audit_record
from facecommons.common.db import atomic_write
from facecommons.common.errors import ServiceError
from facecommons.common.models import SOURCE_LANGUAGE
from facecommons.common.queues import task_send
from facecommons.common.tunables import tunables
from facecommons.releases.models import (
    TOKEN_PREFIX,
    AgreementAcceptance,
    ApplicationStatus,
    DataUseAgreement,
    ResearcherApplication,
    ResearcherToken,
    Snapshot,
    SnapshotStatus,
)

logger = logging.getLogger(__name__)
BUILD_TASK = "facecommons.releases.tasks.snapshot_build_task"  # tasks import this module: sent by name


class ReleaseError(ServiceError):
    """A research-access or snapshot request that cannot be honoured."""


# --- data-use agreements ----------------------------------------------------------------

def agreement_current() -> DataUseAgreement | None:
    return DataUseAgreement.current()


def user_has_current_agreement(user: Any) -> bool:
    current = agreement_current()
    if current is None or not getattr(user, "is_authenticated", False):
        return False
    return AgreementAcceptance.objects.filter(user=user, agreement=current).exists()


def agreement_accept(*, user: Any, version: int, language: str = SOURCE_LANGUAGE) -> AgreementAcceptance:
    """Record acceptance of the current agreement, read in ``language`` (the original or one
    of its translations)."""
    current = agreement_current()
    if current is None:
        raise ReleaseError("no_agreement", "No data-use agreement has been published yet.", status=409)
    if version != current.version:
        raise ReleaseError("agreement_outdated", f"Version {version} is not the current data-use agreement (v{current.version}).")
    language = language.lower()
    if language not in current.shown_languages():
        raise ReleaseError("agreement_language", f"The data-use agreement v{current.version} is not available in "
                           f"“{language}”.", fields={"agreement_language": ["Choose the language of the text you read."]})
    acceptance, _ = AgreementAcceptance.objects.get_or_create(user=user, agreement=current,
                                                              defaults={"language": language})
    audit_record(actor=user, action="agreement_accepted", obj=acceptance,
                 after={"version": current.version, "language": acceptance.language})
    return acceptance


# --- applications -----------------------------------------------------------------------

def application_latest(user: Any) -> ResearcherApplication | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return ResearcherApplication.objects.filter(user=user).order_by("-created_at", "-id").first()


def researcher_is_approved(user: Any) -> bool:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return ResearcherApplication.objects.filter(user=user, status=ApplicationStatus.APPROVED).exists()


def researcher_can_download(user: Any) -> tuple[bool, str]:
    """(allowed, reason): an approved application and the CURRENT agreement accepted."""
    if not researcher_is_approved(user):
        return False, "Only approved researchers can download snapshots: apply at /research/."
    if not user_has_current_agreement(user):
        return False, "Please accept the current data-use agreement at /research/ before downloading."
    return True, ""


def application_submit(*, user: Any, name: str, institution: str, purpose: str,
                       agreement_version: int, agreement_language: str = SOURCE_LANGUAGE) -> ResearcherApplication:
    name, institution, purpose = name.strip(), institution.strip(), purpose.strip()
    errors = {}
    if not name:
        errors["name"] = ["Please give your name."]
    if not institution:
        errors["institution"] = ["Please give your institution."]
    if len(purpose) < 20:
        errors["purpose"] = ["Please describe the purpose of your research (at least 20 characters)."]
    if errors:
        raise ReleaseError("invalid", "; ".join(f"{k}: {v[0]}" for k, v in errors.items()), fields=errors)
    latest = application_latest(user)
    if latest is not None and latest.status in (ApplicationStatus.PENDING, ApplicationStatus.APPROVED):
        raise ReleaseError("already_applied", f"You already have an application ({latest.get_status_display().lower()}).", status=409)
    with transaction.atomic():
        acceptance = agreement_accept(user=user, version=agreement_version, language=agreement_language)
        app = ResearcherApplication.objects.create(user=user, name=name[:200], institution=institution[:300],
                                                   purpose=purpose, agreement=acceptance.agreement)
        audit_record(actor=user, action="research_application_submitted", obj=app)
    return app


def application_decide(*, application: ResearcherApplication, actor: Any, approve: bool,
                       reason: str = "") -> ResearcherApplication:
    """Approve or refuse (a refusal needs a reason); the applicant is e-mailed after commit."""
    reason = (reason or "").strip()
    if not is_admin(actor):
        raise ReleaseError("forbidden", "Only admins decide on applications.", status=403)
    if not approve and not reason:
        raise ReleaseError("reason_required", "Please give the reason for the refusal; it is sent to the applicant.")

    def decide() -> ResearcherApplication:
        app = ResearcherApplication.objects.select_for_update().get(pk=application.pk)
        if app.status != ApplicationStatus.PENDING:
            raise ReleaseError("already_decided", f"This application was already {app.status}.", status=409)
        app.status = ApplicationStatus.APPROVED if approve else ApplicationStatus.REFUSED
        app.reason, app.decided_by, app.decided_at = reason, actor, timezone.now()
        app.save(update_fields=["status", "reason", "decided_by", "decided_at"])
        if approve:
            grant_role(app.user, Role.RESEARCHER)
        audit_record(actor=actor, action=f"research_application_{app.status}", obj=app,
                     before={"status": ApplicationStatus.PENDING}, after={"status": app.status}, note=reason)
        email, status, site = app.user.email, app.status, tunables.SITE_URL
        if approve:
            body = (f"Your application for research access to {settings.SITE_NAME} was approved.\n\n"
                    f"You can now create a personal API token and download snapshots at {site}/research/.")
        else:
            body = (f"Your application for research access to {settings.SITE_NAME} was refused.\n\n"
                    f"Reason: {reason}\n\nYou may apply again at {site}/research/.")
        transaction.on_commit(lambda: send_mail(f"Your research access application: {status}", body,
                                                None, [email], fail_silently=True))
        return app

    app = atomic_write(decide)
    for field in ("status", "reason", "decided_by", "decided_at"):
        setattr(application, field, getattr(app, field))
    return application


# --- personal tokens ----------------------------------------------------------------------

def token_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def token_create(*, user: Any, name: str) -> tuple[ResearcherToken, str]:
    """Create a token; returns (row, key). The key is never stored, only its hash."""
    name = (name or "").strip()
    if not name:
        raise ReleaseError("invalid", "Please name the token (for example the machine it is for).")
    if len(name) > 100:
        raise ReleaseError("invalid", "Token names are at most 100 characters.")
    if ResearcherToken.objects.filter(user=user, revoked_at__isnull=True).count() >= tunables.RELEASES_MAX_TOKENS:
        raise ReleaseError("too_many_tokens", "You have too many active tokens; revoke one first.", status=409)
    key = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ResearcherToken.objects.create(user=user, name=name, key_hash=token_hash(key), prefix=key[:10])
    audit_record(actor=user, action="research_token_created", obj=token, after={"name": name, "prefix": token.prefix})
    return token, key


def token_revoke(*, token: ResearcherToken, actor: Any) -> ResearcherToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_record(actor=actor, action="research_token_revoked", obj=token, after={"prefix": token.prefix})
    return token


# --- snapshots ----------------------------------------------------------------------------

def snapshot_next_version(now: datetime | None = None) -> str:
    now = now or timezone.now()
    month = f"{now:%Y.%m}."
    taken = [v for v in Snapshot.objects.filter(version__startswith=month).values_list("version", flat=True)]
    n = max((int(v.rsplit(".", 1)[1]) for v in taken if v.rsplit(".", 1)[1].isdigit()), default=-1) + 1
    return f"{month}{n}"


def snapshot_request(*, actor: Any | None, note: str = "", purge_of: Snapshot | None = None,
                     enqueue: bool = True) -> Snapshot:
    """Create a pending snapshot (cut-off now) and enqueue its build after commit.

    One build at a time: a second request while one is pending or building is refused. The
    database decides (the ``one_active_snapshot_build`` constraint), so two racing requests
    cannot both pass; the IntegrityError becomes the refusal.
    """
    if actor is not None and not is_admin(actor):
        raise ReleaseError("forbidden", "Only admins start snapshot builds.", status=403)
    previous = Snapshot.objects.filter(status=SnapshotStatus.PUBLISHED).order_by("-published_at", "-id").first()
    for _ in range(5):
        try:
            with transaction.atomic():
                snap = Snapshot.objects.create(version=snapshot_next_version(), cutoff_at=timezone.now(),
                                               created_by=actor if getattr(actor, "is_authenticated", False) else None,
                                               previous=previous, purge_of=purge_of, note=note[:200],
                                               phase="queued")
                audit_record(actor=actor, action="snapshot_requested", obj=snap,
                             after={"version": snap.version, "purge_of": purge_of.version if purge_of else None})
                if enqueue:
                    sid = snap.pk
                    transaction.on_commit(lambda sid=sid: task_send(BUILD_TASK, sid))  # type: ignore[misc]
                return snap
        except IntegrityError:
            busy = Snapshot.objects.filter(status__in=[SnapshotStatus.PENDING, SnapshotStatus.BUILDING]).first()
            if busy is not None:  # the one-active-build constraint
                raise ReleaseError("build_in_progress", f"Snapshot {busy.version} is already being built.", status=409) from None
            continue  # two requests picked the same version number: take the next one
    raise ReleaseError("conflict", "Could not allocate a snapshot version; please retry.", status=409)
