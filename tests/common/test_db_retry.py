"""common.db.run_in_transaction against a REAL serialization failure on PostgreSQL.

Two threads (so two connections) run the classic write-skew of "at least one doctor on call":
each reads how many are on call and, seeing two, takes itself off. Under SERIALIZABLE,
PostgreSQL must abort one of them with SQLSTATE 40001; the helper retries it, the retry sees
the other's commit and leaves its row alone, and the invariant holds.
"""

from __future__ import annotations

import threading

import pytest
from django.db import OperationalError, connection, connections

from facecommons.common import db as common_db

TABLE = "fc_test_retry_oncall"


def _postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite has no SERIALIZABLE snapshot isolation and cannot produce a "
                    "serialization failure (set DATABASE_URL=postgres://...)")


@pytest.fixture
def oncall_table():
    _postgres_only()
    with connection.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {TABLE}")
        cur.execute(f"CREATE TABLE {TABLE} (id integer PRIMARY KEY, on_call boolean NOT NULL)")
        cur.execute(f"INSERT INTO {TABLE} VALUES (1, true), (2, true)")
    yield TABLE
    with connection.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {TABLE}")


def run_skew(attempts: int, monkeypatch) -> dict:
    barrier = threading.Barrier(2, timeout=20)
    tries = {1: 0, 2: 0}
    errors: dict[int, BaseException] = {}
    sqlstates: list[str] = []
    real_is_retryable = common_db.is_retryable

    def recording_is_retryable(exc: BaseException) -> bool:
        cause: BaseException | None = exc
        while cause is not None:
            if getattr(cause, "sqlstate", None):
                sqlstates.append(cause.sqlstate)
                break
            cause = cause.__cause__
        return real_is_retryable(exc)

    monkeypatch.setattr(common_db, "is_retryable", recording_is_retryable)

    def go_off_call(me: int) -> None:
        tries[me] += 1
        with connections["default"].cursor() as cur:
            # Must be the first statement of the transaction.
            cur.execute("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE")
            cur.execute(f"SELECT count(*) FROM {TABLE} WHERE on_call")
            (on_call,) = cur.fetchone()
            if tries[me] == 1:
                barrier.wait()  # both have read before either writes: the write skew
            if on_call >= 2:
                cur.execute(f"UPDATE {TABLE} SET on_call = false WHERE id = %s", [me])

    def worker(me: int) -> None:
        try:
            common_db.run_in_transaction(lambda: go_off_call(me), attempts=attempts, base_delay=0.01)
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            errors[me] = exc
        finally:
            connections["default"].close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    with connection.cursor() as cur:
        cur.execute(f"SELECT count(*) FROM {TABLE} WHERE on_call")
        (still_on_call,) = cur.fetchone()
    return {"tries": tries, "errors": errors, "sqlstates": sqlstates, "on_call": still_on_call}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)  # real commits: the two threads must see each other
def test_without_retry_the_serialization_failure_is_real(oncall_table, monkeypatch):
    result = run_skew(attempts=1, monkeypatch=monkeypatch)
    assert result["tries"] == {1: 1, 2: 1}
    assert len(result["errors"]) == 1, result
    (exc,) = result["errors"].values()
    assert isinstance(exc, OperationalError)
    assert getattr(exc.__cause__, "sqlstate", None) == "40001"
    assert result["on_call"] == 1  # the loser rolled back; the winner committed


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)  # real commits: the two threads must see each other
def test_run_in_transaction_retries_and_succeeds(oncall_table, monkeypatch):
    result = run_skew(attempts=5, monkeypatch=monkeypatch)
    assert result["errors"] == {}, result
    assert result["sqlstates"] == ["40001"]  # exactly one real serialization failure ...
    assert sorted(result["tries"].values()) == [1, 2]  # ... and exactly one retry, which succeeded
    assert result["on_call"] == 1  # and the invariant held: one doctor stays on call


def test_retryable_detection_without_a_database():
    class Cause(Exception):
        sqlstate = "40001"

    err = OperationalError("could not serialize access")
    err.__cause__ = Cause()
    assert common_db.is_retryable(err)
    assert common_db.is_retryable(OperationalError("database is locked"))
    assert not common_db.is_retryable(OperationalError("no such table"))
