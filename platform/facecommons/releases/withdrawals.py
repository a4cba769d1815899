"""Withdrawals after publication: recorded per snapshot, removed from the store, announced.

A contributor who withdraws (or a photo deleted) after a snapshot was published: the snapshot
gets ``Withdrawal`` rows (what its signed removal manifest lists), the photo's blobs are deleted
from the store (no version can serve them again), researchers who downloaded it are told and
must acknowledge the removal manifest (``RemovalAcknowledgement``), reminded until they do.
"""

from __future__ import annotations

import csv
import io
import logging
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from facecommons.accounts.models import User
from facecommons.common.audit import audit_record
from facecommons.common.storage import private_storage
from facecommons.common.tunables import tunables
from facecommons.contributions.models import Contribution, ContributionStatus
from facecommons.releases.archive.store import BlobStore
from facecommons.releases.models import (
    AgreementAcceptance,
    Blob,
    Download,
    RemovalAcknowledgement,
    ResearcherNotice,
    Snapshot,
    SnapshotEntry,
    SnapshotStatus,
    Withdrawal,
)

logger = logging.getLogger(__name__)


def withdrawn_csv(snapshot: Snapshot) -> str:
    """subject_id, file_name (one line per file to delete), contribution-free: researchers only
    ever see pseudonymous subject ids and file names."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["subject_id", "file_name", "reason", "withdrawn_at"])
    for wd in snapshot.withdrawals.order_by("withdrawn_at", "id").iterator():
        for name in wd.file_names:
            w.writerow([wd.subject_id, name, wd.reason, wd.withdrawn_at.isoformat()])
    return out.getvalue()


def withdrawn_key(snapshot: Snapshot) -> str:
    return f"releases/snapshots/{snapshot.version}/withdrawn.csv"


def _write_withdrawn_file(snapshot_id: int) -> None:
    """Rewrite withdrawn.csv beside the manifest (the manifest itself is never touched)."""
    snap = Snapshot.objects.filter(pk=snapshot_id).first()
    if snap is None:
        return
    storage = private_storage()
    key = withdrawn_key(snap)
    data = withdrawn_csv(snap).encode()
    tmp = storage.save(key + ".new", ContentFile(data))
    if storage.exists(key):
        storage.delete(key)
    storage.save(key, ContentFile(data))
    storage.delete(tmp)


def _delete_blobs(contribution_ids: list[UUID]) -> None:
    """Delete the withdrawn photos' bytes from the store (after commit: the rows say they are gone)."""
    shas = list(Blob.objects.filter(contribution_id__in=contribution_ids, withdrawn_at__isnull=True)
                .values_list("sha256", flat=True))
    if not shas:
        return
    Blob.objects.filter(sha256__in=shas).update(withdrawn_at=timezone.now())
    store = BlobStore()

    def delete() -> None:
        for sha in shas:
            store.delete(sha)

    transaction.on_commit(delete)


def withdrawal_record(*, contribution_ids: list[UUID] | list[str], reason: str,
                      withdrawn_at: datetime | None = None, snapshots: list[int] | None = None) -> list[Snapshot]:
    """Record that these photos left the dataset: for each published snapshot holding them, add
    ``Withdrawal`` rows, refresh its withdrawn.csv and notify researchers who downloaded it; and
    delete their blobs from the store.

    Runs inside the caller's transaction (the withdrawal), before the rows are deleted; files
    and e-mails follow on commit. Returns the snapshots affected.
    """
    withdrawn_at = withdrawn_at or timezone.now()
    ids = [UUID(str(c)) for c in contribution_ids if c]
    if not ids:
        return []
    _delete_blobs(ids)
    entries = SnapshotEntry.objects.filter(contribution_id__in=ids, snapshot__status=SnapshotStatus.PUBLISHED)
    if snapshots is not None:
        entries = entries.filter(snapshot_id__in=snapshots)
    touched: dict[int, int] = {}
    for e in entries.select_related("snapshot").order_by("snapshot_id", "id"):
        _, created = Withdrawal.objects.get_or_create(
            snapshot_id=e.snapshot_id, contribution_id=e.contribution_id,
            defaults={"subject_id": e.subject_id, "file_names": [e.file_name, *e.extra_files], "reason": reason,
                      "withdrawn_at": withdrawn_at})
        if created:
            touched[e.snapshot_id] = touched.get(e.snapshot_id, 0) + 1
    affected = []
    for sid, n in touched.items():
        snap = Snapshot.objects.select_for_update().get(pk=sid)
        snap.withdrawals_count += n
        snap.withdrawn_updated_at = withdrawn_at
        snap.save(update_fields=["withdrawals_count", "withdrawn_updated_at"])
        audit_record(actor=None, action="snapshot_withdrawal_recorded", obj=snap, after={"photos": n, "reason": reason})
        _notify_downloaders(snap)
        transaction.on_commit(lambda sid=sid: _write_withdrawn_file(sid))  # type: ignore[misc]
        affected.append(snap)
    return affected


def withdrawal_record_gone(*, snapshot: Snapshot) -> None:
    """Photos of a just-published snapshot that were withdrawn or deleted while it was built."""
    gone = list(SnapshotEntry.objects.filter(snapshot=snapshot)
                .exclude(contribution_id__in=Contribution.objects.filter(status=ContributionStatus.APPROVED)
                         .values("pk"))
                .values_list("contribution_id", flat=True))
    if gone:
        withdrawal_record(contribution_ids=gone, reason="withdrawn", snapshots=[snapshot.pk])


def researcher_language(user: Any) -> str:
    """The language a researcher reads: that of the data-use agreement they last accepted."""
    lang = (AgreementAcceptance.objects.filter(user=user).order_by("-accepted_at", "-id")
            .values_list("language", flat=True).first())
    return lang or settings.LANGUAGE_CODE


def _withdrawn_message(snap: Snapshot) -> tuple[str, str]:
    """(subject, text) of the notice, in the active language."""
    subject = _("%(site)s: files withdrawn from snapshot %(version)s") % {"site": settings.SITE_NAME,
                                                                           "version": snap.version}
    text = _("Files were withdrawn from snapshot %(version)s after it was published. Under the data-use agreement "
             "you must delete the files listed in the signed removal manifest %(url)s from every copy you hold, "
             "stop using them, and acknowledge it (`python -m facecommons_client sync` does both).") % {
        "version": snap.version, "url": f"{tunables.SITE_URL}/api/v1/snapshots/{snap.version}/removals/"}
    return subject, text


def _notify_downloaders(snap: Snapshot) -> None:
    """A notice, an e-mail and an open acknowledgement for everyone who downloaded the snapshot,
    each in the language of the data-use agreement they accepted."""
    user_ids = set(Download.objects.filter(snapshot=snap, user__isnull=False).values_list("user_id", flat=True))

    mails: list[tuple[str, str, str]] = []
    for user in User.objects.filter(pk__in=user_ids, is_active=True):
        with translation.override(researcher_language(user)):
            subject, message = _withdrawn_message(snap)
        ResearcherNotice.objects.create(user=user, snapshot=snap, message=message)
        ack, created = RemovalAcknowledgement.objects.get_or_create(
            user=user, snapshot=snap, defaults={"withdrawals": snap.withdrawals_count})
        if not created:  # new withdrawals re-open an acknowledged manifest
            ack.withdrawals, ack.acknowledged_at, ack.acknowledged_digest = snap.withdrawals_count, None, ""
            ack.save(update_fields=["withdrawals", "acknowledged_at", "acknowledged_digest"])
        mails.append((subject, message, user.email))
    if mails:
        def mail() -> None:
            for subject, message, addr in mails:  # one mail each: researchers must not see each other's addresses
                send_mail(subject, message, None, [addr], fail_silently=True)

        transaction.on_commit(mail)


def removal_acknowledge(*, user: Any, snapshot: Snapshot, digest: str) -> RemovalAcknowledgement:
    """The researcher applied the removal manifest whose SHA-256 is ``digest``."""
    ack, _ = RemovalAcknowledgement.objects.get_or_create(user=user, snapshot=snapshot,
                                                          defaults={"withdrawals": snapshot.withdrawals_count})
    ack.acknowledged_at, ack.acknowledged_digest = timezone.now(), digest[:64]
    ack.withdrawals = snapshot.withdrawals_count
    ack.save(update_fields=["acknowledged_at", "acknowledged_digest", "withdrawals"])
    audit_record(actor=user, action="removal_manifest_acknowledged", obj=ack,
                 after={"version": snapshot.version, "digest": digest[:64], "withdrawals": snapshot.withdrawals_count})
    return ack


def removal_reminders_send(*, now: datetime | None = None) -> int:
    """E-mail researchers whose acknowledgement is still open, at most every
    ``RELEASES_REMOVAL_REMIND_DAYS`` days; returns how many were reminded."""
    now = now or timezone.now()
    every = timedelta(days=tunables.RELEASES_REMOVAL_REMIND_DAYS)
    site = tunables.SITE_URL
    sent = 0
    for ack in (RemovalAcknowledgement.objects.filter(acknowledged_at__isnull=True, created_at__lte=now - every)
                .select_related("user", "snapshot").iterator()):
        if ack.reminded_at is not None and ack.reminded_at > now - every:
            continue
        version = ack.snapshot.version
        with translation.override(researcher_language(ack.user)):
            subject = _("%(site)s: please confirm the removal of withdrawn files (%(version)s)") % {
                "site": settings.SITE_NAME, "version": version}
            text = _("Files were withdrawn from snapshot %(version)s, which you downloaded. Please delete them "
                     "(%(url)s) and acknowledge it; `python -m facecommons_client sync` does both.") % {
                "version": version, "url": f"{site}/api/v1/snapshots/{version}/removals/"}
        send_mail(subject, text, None, [ack.user.email], fail_silently=True)
        ack.reminded_at, ack.reminders = now, ack.reminders + 1
        ack.save(update_fields=["reminded_at", "reminders"])
        sent += 1
    return sent
