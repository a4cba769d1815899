"""Account services (HackSoft style: keyword-only, ``<entity>_<action>``)."""

from __future__ import annotations

import json
import shutil
import tempfile
import uuid
import zipfile

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.exceptions import ObjectDoesNotExist
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from facecommons.accounts.comprehension import wrong_answers
from facecommons.accounts.events import consent_withdrawn
from facecommons.accounts.models import ComprehensionCheck, ConsentAcceptance, ConsentVersion, Role, User
from facecommons.accounts.roles import grant_role
from facecommons.accounts.tokens import api_tokens_revoke_all
from facecommons.common.audit import audit_record
from facecommons.common.db import atomic_write
from facecommons.common.errors import ServiceError
from facecommons.common.models import SOURCE_LANGUAGE, AuditEvent
from facecommons.common.storage import private_storage
from facecommons.contributions.models import Contribution, ContributionFile


def consent_current() -> ConsentVersion | None:
    return ConsentVersion.current()


def user_has_current_consent(user: User) -> bool:
    current = consent_current()
    if current is None or not user.is_authenticated or user.withdrawn_at is not None:
        return False
    return ConsentAcceptance.objects.filter(user=user, version=current, adult_confirmed=True,
                                            withdrawn_at__isnull=True).exists()


def consent_accept(*, user: User, version: int, adult: bool, language: str = SOURCE_LANGUAGE) -> ConsentAcceptance:
    """Record acceptance of ``version`` as read in ``language``; the version must be the
    current one, ``adult`` true, and the text must exist in that language (the original or
    one of its translations)."""
    current = consent_current()
    if current is None:
        raise ServiceError("consent_invalid", gettext("There is no consent text to accept yet."))
    if version != current.version:
        raise ServiceError("consent_invalid", gettext("Version %(version)s is not the current consent (v%(current)s); please read and accept "
                                 "the current one.") % {"version": version, "current": current.version})
    if not adult:
        raise ServiceError("consent_invalid", gettext("You must confirm that you are 18 or older to take part."))
    language = language.lower()
    if language not in current.shown_languages():
        raise ServiceError("consent_invalid", gettext("This consent text is not available in that language."),
                           fields={"language": [gettext("Choose the language of the text you read.")]})
    acceptance, _ = ConsentAcceptance.objects.update_or_create(
        user=user, version=current,
        defaults={"adult_confirmed": True, "accepted_at": timezone.now(), "withdrawn_at": None,
                  "language": language},
    )
    return acceptance


def comprehension_needed(user: User) -> bool:
    """True before a person's first consent, until they answered the check right once."""
    if ConsentAcceptance.objects.filter(user=user).exists():
        return False
    return not ComprehensionCheck.objects.filter(user=user, passed_at__isnull=False).exists()


@transaction.atomic
def comprehension_answer(*, user: User, version: ConsentVersion, language: str,
                         answers: dict[str, str]) -> list[str]:
    """Record one attempt at the comprehension check; returns the keys of the questions
    answered wrongly (empty: passed). Attempts are unlimited: a wrong answer only leads the
    person back to the passage (see accounts/comprehension.py)."""
    check, _ = ComprehensionCheck.objects.select_for_update().get_or_create(
        user=user, defaults={"version": version, "language": language})
    wrong = wrong_answers(answers)
    check.version, check.language, check.attempts = version, language, check.attempts + 1
    for key in wrong:
        check.wrong[key] = int(check.wrong.get(key, 0)) + 1
    if not wrong and check.passed_at is None:
        check.passed_at = timezone.now()
    check.save(update_fields=["version", "language", "attempts", "wrong", "passed_at", "updated_at"])
    return wrong


@transaction.atomic
def account_create(*, email: str, password: str, role: Role | str = Role.CONTRIBUTOR) -> User:
    """Create a verified, active account with ``role`` (contributors get only that role)."""
    email = email.strip().lower()
    if User.objects.filter(email__iexact=email).exists():
        raise ValueError(f"An account with {email} already exists.")
    user = User.objects.create_user(email=email, password=password)
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    grant_role(user, Role.CONTRIBUTOR)
    if Role(role) != Role.CONTRIBUTOR:
        grant_role(user, role)
    return user


# --- withdrawal and export --------------------------------------------------------------

def account_withdraw(*, user: User) -> None:
    """Withdraw consent and delete everything: every photo and derived file, tokens, sessions.

    ``consent_withdrawn`` is emitted first, inside the transaction: the contributions app
    deletes every photo there (releases and rewards record the withdrawal before the rows
    go; files are removed from storage after the transaction commits). The user row stays,
    anonymised and inactive, so that ledgers and snapshot pseudonyms keep their foreign key.
    """
    def withdraw() -> None:
        now = timezone.now()
        locked = User.objects.select_for_update().get(pk=user.pk)
        deleted = Contribution.objects.filter(owner=locked).count()
        consent_withdrawn.emit(user=locked, withdrawn_at=now)
        ConsentAcceptance.objects.filter(user=locked, withdrawn_at__isnull=True).update(withdrawn_at=now)
        api_tokens_revoke_all(user=locked, reason="withdrawn")
        _delete_sessions_of(locked.pk, Session)
        _delete_allauth_rows(locked)
        locked.email = f"withdrawn-{uuid.uuid4().hex}@invalid"
        locked.is_active = False
        locked.withdrawn_at = now
        locked.last_declared_categories = {}
        # An unusable password also invalidates any session we could not find (session hash).
        locked.set_unusable_password()
        locked.save(update_fields=["email", "is_active", "withdrawn_at", "last_declared_categories", "password"])
        audit_record(actor=locked, action="account_withdrawn", obj=locked,
                     after={"contributions_deleted": deleted, "pseudonym": locked.pseudonym})
        for field in ("email", "is_active", "withdrawn_at", "last_declared_categories", "password"):
            setattr(user, field, getattr(locked, field))

    atomic_write(withdraw)


def _delete_sessions_of(user_pk: int, session_model) -> None:  # type: ignore[no-untyped-def]
    """Delete the database sessions of a user (other session engines: the password change above)."""
    if settings.SESSION_ENGINE not in ("django.contrib.sessions.backends.db",
                                       "django.contrib.sessions.backends.cached_db"):
        return
    doomed = []
    for s in session_model.objects.filter(expire_date__gt=timezone.now()).iterator():
        try:
            if str(s.get_decoded().get("_auth_user_id")) == str(user_pk):
                doomed.append(s.session_key)
        except Exception:  # noqa: BLE001,S112 - an undecodable session is nobody's
            continue
    session_model.objects.filter(session_key__in=doomed).delete()


def _delete_allauth_rows(user: User) -> None:
    """E-mail addresses and authenticators are personal data: they go with the account."""
    EmailAddress.objects.filter(user=user).delete()

    Authenticator.objects.filter(user=user).delete()


def account_export_data(*, user: User) -> dict:
    """Everything the platform holds about ``user``, as JSON-serialisable data."""
    def iso(dt) -> str | None:  # type: ignore[no-untyped-def]
        return dt.isoformat() if dt else None

    contributions = []
    qs = Contribution.objects.filter(owner=user).select_related("taxonomy").prefetch_related("files")
    for c in qs.order_by("created_at"):
        history = [
            {"at": iso(e.created_at), "action": e.action, "status_before": e.before.get("status"),
             "status_after": e.after.get("status"), "by": "you" if e.actor_id == user.pk else ("system" if e.actor_id is None else "a moderator")}
            for e in AuditEvent.objects.filter(object_type="contributions.contribution", object_id=str(c.pk))
            .order_by("created_at", "id")
        ]
        item = {
            "id": str(c.pk), "status": c.status, "created_at": iso(c.created_at),
            "status_changed_at": iso(c.status_changed_at), "taxonomy_version": c.taxonomy.version,
            "declared_categories": c.categories, "declared_free_text": c.categories_free_text,
            "corrected_categories": c.corrected_categories,
            "rejection_reason": ({"code": c.rejection_code, "message": c.rejection_message}
                                 if c.rejection_code or c.rejection_message else None),
            "sha256": c.sha256, "source_sha256": c.source_sha256, "phash": c.phash, "width": c.width,
            "height": c.height, "original_format": c.original_format, "original_name": c.original_name,
            "files": [{"variant": f.variant, "path": f"photos/{c.pk}/{f.variant}.jpg", "sha256": f.sha256,
                       "width": f.width, "height": f.height} for f in c.files.all()],
            "history": history,
        }
        analysis = getattr(c, "analysis", None) if _has_analysis(c) else None
        if analysis is not None:
            item["analysis"] = {
                f.name: (iso(getattr(analysis, f.name)) if f.get_internal_type() == "DateTimeField"
                         else getattr(analysis, f.name))
                for f in analysis._meta.concrete_fields if f.name != "contribution"
            }
        contributions.append(item)
    return {
        "exported_at": timezone.now().isoformat(),
        "account": {"email": user.email, "pseudonym": user.pseudonym, "date_joined": iso(user.date_joined),
                    "withdrawn_at": iso(user.withdrawn_at), "roles": sorted(user.groups.values_list("name", flat=True)),
                    "last_declared_categories": user.last_declared_categories},
        "consents": [{"version": a.version.version, "accepted_at": iso(a.accepted_at), "language": a.language,
                      "adult_confirmed": a.adult_confirmed, "withdrawn_at": iso(a.withdrawn_at)}
                     for a in user.consents.select_related("version").order_by("accepted_at")],
        "comprehension_check": _comprehension_export(user),
        "contributions": contributions,
    }


def _comprehension_export(user: User) -> dict | None:
    check = ComprehensionCheck.objects.filter(user=user).select_related("version").first()
    if check is None:
        return None
    return {"consent_version": check.version.version, "language": check.language, "attempts": check.attempts,
            "wrong_answers_per_question": check.wrong,
            "passed_at": check.passed_at.isoformat() if check.passed_at else None}


def _has_analysis(contribution) -> bool:  # type: ignore[no-untyped-def]

    try:
        return getattr(contribution, "analysis", None) is not None
    except ObjectDoesNotExist:
        return False


def account_export(*, user: User):  # type: ignore[no-untyped-def]
    """A zip (file-like, positioned at 0) of every photo variant the user owns and ``data.json``.

    Built in a SpooledTemporaryFile: small exports stay in memory, large ones go to disk.
    The export is audit-logged.
    """
    data = account_export_data(user=user)
    storage = private_storage()
    out = tempfile.SpooledTemporaryFile(max_size=16 * 1024 * 1024)  # noqa: SIM115 - returned to the caller
    n_files = 0
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("README.txt", "Your data from Face Commons: data.json holds your account, consents and every "
                                  "photo's declared categories, status and history; photos/ holds the stored "
                                  "copies of each photo.\n", compress_type=zipfile.ZIP_DEFLATED)
        for c in data["contributions"]:
            for f in c["files"]:
                key = _file_key(c["id"], f["variant"])
                if not key or not storage.exists(key):
                    continue
                # JPEGs are already compressed: store them as they are.
                with storage.open(key, "rb") as src, zf.open(f["path"], "w", force_zip64=True) as dst:
                    shutil.copyfileobj(src, dst, 1024 * 1024)
                n_files += 1
        zf.writestr("data.json", json.dumps(data, indent=2, ensure_ascii=False), compress_type=zipfile.ZIP_DEFLATED)
    out.seek(0)
    audit_record(actor=user, action="data_exported", obj=user, after={"files": n_files})
    return out


def _file_key(contribution_id: str, variant: str) -> str | None:
    return (ContributionFile.objects.filter(contribution_id=contribution_id, variant=variant)
            .values_list("key", flat=True).first())
