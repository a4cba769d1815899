"""Claim-with-lease: the one way a worker takes a row of a queue-like table.

Used by the pipeline (``PhotoAnalysis``), evaluation chunks, snapshot builds and training runs;
the moderation queue shares :func:`lock_candidates`. The protocol:

1. **Claim** (:func:`lease_claim`): one conditional UPDATE that succeeds only while the row is
   claimable and its lease has run out, and that writes a new *fence*: the attempt count
   (always) and a fresh token (where the table has a token column). Two workers can never
   both claim: the second UPDATE matches no row. On PostgreSQL and CockroachDB the row is
   first read ``FOR UPDATE SKIP LOCKED``, so a claimer walks past a row another transaction is
   claiming instead of queueing behind it; on SQLite (one writer at a time) the conditional
   UPDATE alone is the guarantee.
2. **Work unlocked**, renewing the lease on a heartbeat (:class:`Heartbeat`: a thread with its
   own connection, or :meth:`Heartbeat.beat` from the work loop). A renewal matches the fence,
   so a worker whose lease was taken over learns it (``lost``) instead of renewing the new
   owner's lease.
3. **Finish only if the fence is still current** (:meth:`Lease.holds` on the locked row, or a
   write filtered by :meth:`Lease.fence_q`), and **release** (:func:`lease_release`) when a run
   gives up early, so that a retry need not wait for the lease.

A row whose worker died keeps its expired lease: :func:`lease_expired_q` finds it for the
app's reconciler, which enqueues it again.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import DatabaseError, connection, connections, models
from django.db.models import Q
from django.utils import timezone

from facecommons.common.db import atomic_write

logger = logging.getLogger(__name__)


class LeaseFields(models.Model):
    """The lease columns of a queue-like row: how many times it was claimed (the fence) and
    when the current claim runs out (null: never claimed, or finished)."""

    attempts = models.PositiveSmallIntegerField(default=0)
    lease_expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True


def lease_until(seconds: float, *, now: datetime | None = None) -> datetime:
    return (now or timezone.now()) + timedelta(seconds=seconds)


def lease_expired_q(*, field: str = "lease_expires_at", now: datetime | None = None) -> Q:
    """Rows whose lease has run out or that were never leased."""
    return Q(**{f"{field}__isnull": True}) | Q(**{f"{field}__lte": now or timezone.now()})


class LeaseLost(Exception):
    """Another worker took the row over (or it was finished elsewhere): stop, write nothing."""


@dataclass(frozen=True)
class Lease:
    """One claim of one row. ``fence``: the column values that identify this claim."""

    model: type[models.Model]
    pk: Any
    attempt: int
    seconds: float
    expires_at: datetime
    fence: dict[str, Any] = field(default_factory=dict)
    field: str = "lease_expires_at"

    @property
    def token(self) -> str:
        """The claim's token, where the table has a token column (``fence_column``)."""
        return next((str(v) for k, v in self.fence.items() if k != "attempts"), "")

    def fence_q(self) -> Q:
        return Q(pk=self.pk, **self.fence)

    @classmethod
    def current(cls, row: models.Model, *, seconds: float, fence_column: str | None = None) -> Lease:
        """The claim ``row`` carries now. Precondition: this worker made it (``lease_claim``)."""
        attempt = row.attempts  # type: ignore[attr-defined]
        fence = {"attempts": attempt, **({fence_column: getattr(row, fence_column)} if fence_column else {})}
        return cls(model=type(row), pk=row.pk, attempt=attempt, seconds=seconds,
                   expires_at=row.lease_expires_at, fence=fence)  # type: ignore[attr-defined]

    def holds(self, row: models.Model) -> bool:
        """True when ``row`` (read under a lock) still carries this claim."""
        return all(getattr(row, name) == value for name, value in self.fence.items())


def lock_candidates(qs: Any, *, limit: int, of: tuple[str, ...] = ("self",)) -> list[Any]:
    """Up to ``limit`` rows of ``qs``, locked ``FOR UPDATE SKIP LOCKED`` where the database has
    it (rows another transaction is claiming are passed over); read plainly on SQLite, where the
    caller's conditional write is the guarantee. Precondition: inside a transaction."""
    if connection.features.has_select_for_update_skip_locked:
        of = of if connection.features.has_select_for_update_of else ()
        return list(qs.select_for_update(skip_locked=True, of=of)[:limit])
    return list(qs[:limit])


def lease_claim(qs: Any, *, pk: Any, seconds: float, fence_column: str | None = None,
                attempts_field: str = "attempts", field: str = "lease_expires_at",
                set: dict[str, Any] | None = None, now: datetime | None = None) -> Lease | None:
    """Claim row ``pk`` of ``qs`` (whose filter says which rows are claimable) if its lease has
    run out; write ``set`` with the claim. None when the row is not claimable, is held by a live
    lease, or another claimer got there first. Safe inside or outside a transaction."""
    now = now or timezone.now()
    expired = lease_expired_q(field=field, now=now)

    def claim() -> Lease | None:
        rows = lock_candidates(qs.filter(pk=pk).filter(expired), limit=1)
        if not rows:
            return None
        seen = getattr(rows[0], attempts_field)
        fence: dict[str, Any] = {attempts_field: seen + 1}
        if fence_column:
            fence[fence_column] = uuid.uuid4().hex
        until = lease_until(seconds, now=now)
        # The fence of the row as read: a claimer that read the same row and wrote first
        # leaves this UPDATE matching nothing.
        won = qs.filter(expired, pk=pk, **{attempts_field: seen}).update(**{field: until, **fence, **(set or {})})
        if won != 1:
            return None
        return Lease(model=qs.model, pk=pk, attempt=seen + 1, seconds=seconds, expires_at=until, fence=fence,
                     field=field)

    return atomic_write(claim)


def lease_renew(lease: Lease, *, where: Q | None = None, seconds: float | None = None) -> bool:
    """Extend the lease if it is still this claim's (and ``where`` holds); False when it was
    taken over, finished, or the row is gone."""
    qs = lease.model._default_manager.filter(lease.fence_q())
    if where is not None:
        qs = qs.filter(where)
    return qs.update(**{lease.field: lease_until(lease.seconds if seconds is None else seconds)}) == 1


def lease_release(lease: Lease) -> bool:
    """Let the next claim in at once (the lease ends now), if it is still this claim's."""
    return lease.model._default_manager.filter(lease.fence_q()).update(**{lease.field: timezone.now()}) == 1


def lease_seconds_left(expires_at: datetime | None, *, now: datetime | None = None) -> float:
    if expires_at is None:
        return 0.0
    return max(0.0, (expires_at - (now or timezone.now())).total_seconds())


class Heartbeat:
    """Renews a lease while the work runs: ``renew()`` returns False once the lease is lost.

    As a context manager it starts a daemon thread that calls ``renew`` every ``every`` seconds
    on its own database connection, so that a long step with no progress report (sorting a
    manifest, loading a model) cannot let the lease lapse; a worker that is killed stops
    beating, and its lease runs out ``seconds`` later. Inside an outer transaction (tests, a
    command run in ``atomic``) another connection could not see the claimed row, so no thread
    is started there; the work loop may still call :meth:`beat`. ``lost`` tells the work that
    another worker took over, so it can stop instead of duplicating work.
    """

    def __init__(self, renew: Callable[[], bool], *, every: float, name: str = "lease") -> None:
        self.renew = renew
        self.every = every
        self.name = name
        self.lost = False
        self.beats = 0
        self._last = time.monotonic()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def beat(self) -> bool:
        """From the work loop: renew if ``every`` seconds passed since the last renewal (unless
        the thread beats); False once the lease is lost."""
        if self._thread is None and not self.lost and time.monotonic() - self._last >= self.every:
            self._renew()
        return not self.lost

    def check(self) -> None:
        """:meth:`beat`, raising :class:`LeaseLost` once the lease is lost."""
        if not self.beat():
            raise LeaseLost(self.name)

    def _renew(self) -> None:
        self._last = time.monotonic()
        try:
            ok = self.renew()
        except DatabaseError as exc:  # the database is briefly away: the lease may still hold
            logger.warning("%s: lease renewal failed (%s); retrying in %.0f s", self.name, exc, self.every)
            return
        self.beats += 1
        if not ok:
            logger.warning("%s: lease lost (taken over or finished elsewhere)", self.name)
            self.lost = True

    def _run(self) -> None:
        try:
            while not self._stop.wait(self.every) and not self.lost:
                self._renew()
        finally:
            connections.close_all()  # this thread's connections only

    def __enter__(self) -> Heartbeat:
        if self.every > 0 and not connection.in_atomic_block:
            self._thread = threading.Thread(target=self._run, name=f"heartbeat-{self.name}", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
