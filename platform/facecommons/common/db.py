"""Database helpers: the one retry helper for serialization failures; a fast bulk insert.

CockroachDB runs every transaction SERIALIZABLE and asks the client to retry on SQLSTATE
40001; PostgreSQL does the same under SERIALIZABLE, and reports deadlocks as 40P01. Writes
that can conflict (consensus decisions, leases, payout rounds, status transitions) run
through :func:`run_in_transaction`, which retries the whole transaction with backoff.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from django.db import DatabaseError, OperationalError, connections, models, transaction

logger = logging.getLogger(__name__)
T = TypeVar("T")

RETRYABLE_SQLSTATES = {"40001", "40P01"}


def is_retryable(exc: BaseException) -> bool:
    """True for serialization failures and deadlocks (and SQLite's 'database is locked')."""
    cause: BaseException | None = exc
    while cause is not None:
        sqlstate = getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)
        if sqlstate in RETRYABLE_SQLSTATES:
            return True
        if isinstance(cause, OperationalError) and "database is locked" in str(cause):
            return True
        cause = cause.__cause__
    return False


def run_in_transaction(fn: Callable[[], T], *, using: str = "default", attempts: int = 8,
                       base_delay: float = 0.01, max_delay: float = 0.5) -> T:
    """Run ``fn`` in its own atomic block, retrying the whole block on a serialization failure.

    Precondition: not called inside an outer ``atomic`` block on the same connection (a retry
    cannot restart an outer transaction); it raises ``RuntimeError`` if it is.
    """
    conn = connections[using]
    if conn.in_atomic_block:
        raise RuntimeError("run_in_transaction must own the transaction; it was called inside atomic().")
    for attempt in range(1, attempts + 1):
        try:
            with transaction.atomic(using=using):
                return fn()
        except DatabaseError as exc:
            if attempt == attempts or not is_retryable(exc):
                raise
            delay = min(max_delay, base_delay * 2 ** (attempt - 1)) * (0.5 + random.random())
            logger.info("retrying transaction after serialization failure (attempt %d): %s", attempt, exc)
            time.sleep(delay)
    raise AssertionError("unreachable")


def atomic_write(fn: Callable[[], T], *, using: str = "default") -> T:
    """Run ``fn`` in a transaction: its own, retried on serialization failures
    (:func:`run_in_transaction`), when the caller holds none.

    Inside an outer ``atomic`` (a caller's transaction, an admin action, a test) the retry
    cannot restart the outer block, so ``fn`` runs in a savepoint and a conflict propagates.
    """
    if connections[using].in_atomic_block:
        with transaction.atomic(using=using):
            return fn()
    return run_in_transaction(fn, using=using)


# Fields whose Python values the database drivers take as they are; every other field's values go
# through ``get_db_prep_save`` (JSON, UUIDs on SQLite, aware datetimes, ...).
_PLAIN_FIELDS = (models.CharField, models.TextField, models.IntegerField, models.BooleanField, models.FloatField)


def bulk_insert(model: type[models.Model], fields: Sequence[str], rows: Iterable[Sequence[Any]], *,
                ignore_conflicts: bool = False, using: str = "default") -> int:
    """Insert many rows with one prepared statement (``executemany``); returns how many were sent.

    For hot paths that write thousands of rows (a snapshot's entries and blobs): ``bulk_create``
    builds a model instance and compiles every value through the ORM, about 0.3 ms a row, which is
    most of a build's time. Here each row is a tuple in the order of ``fields`` (model field names;
    ``snapshot`` or ``snapshot_id`` for a foreign key), prepared with the field's own
    ``get_db_prep_save`` where the value needs it. No signals, no defaults: give every column the
    table requires. ``ignore_conflicts`` skips rows that break a unique constraint
    (``ON CONFLICT DO NOTHING``, which SQLite, PostgreSQL and CockroachDB all speak).
    """
    conn = connections[using]
    meta = model._meta
    named = {**{f.name: f for f in meta.concrete_fields}, **{f.attname: f for f in meta.concrete_fields}}
    cols = [named[name] for name in fields]
    prep = [None if isinstance(f, _PLAIN_FIELDS) and not f.is_relation else f for f in cols]
    qn = conn.ops.quote_name
    sql = (f"INSERT INTO {qn(meta.db_table)} ({', '.join(qn(str(f.column)) for f in cols)}) "  # noqa: S608 - names from the model
           f"VALUES ({', '.join(['%s'] * len(cols))})" + (" ON CONFLICT DO NOTHING" if ignore_conflicts else ""))
    last: list[tuple[Any, Any]] = [(object(), None)] * len(cols)  # per column: the last value and its prepared form

    def prepared(i: int, field: models.Field[Any, Any] | None, value: Any) -> Any:
        if field is None:
            return value
        if last[i][0] is value:  # the same object (a timestamp shared by every row): prepared once
            return last[i][1]
        out = field.get_db_prep_save(value, conn)
        last[i] = (value, out)
        return out

    params = [tuple(prepared(i, p, v) for i, (v, p) in enumerate(zip(row, prep, strict=True))) for row in rows]
    if params:
        # One transaction (in autocommit, SQLite would commit, and sync, every row).
        with transaction.atomic(using=using, savepoint=False), conn.cursor() as cursor:
            cursor.executemany(sql, params)
    return len(params)
