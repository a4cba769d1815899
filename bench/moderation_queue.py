"""Moderation queue under load: 1,000,000 contributions awaiting review in PostgreSQL, 8
moderator threads leasing the next photo and recording a decision, for a fixed time.

    .venv/bin/python bench/moderation_queue.py [--rows 1000000] [--moderators 8] [--seconds 20]
        [--database-url postgres://postgres@127.0.0.1:5432/fc_bench_queue]

Uses a scratch database (created and migrated if missing; never the test database). The rows
are made by one ``INSERT … SELECT generate_series`` (about a minute for a million); a
re-run reuses them and puts decided rows back in the queue. Prints p50/p95/p99 of
``queue_lease_next`` and of ``review_decide`` against the 50 ms target, for:

- skip_locked: the real path (candidates read ``FOR UPDATE SKIP LOCKED`` LIMIT 5, then a
  conditional lease write),
- baseline: the same services with SKIP LOCKED turned off (the SQLite path: every
  moderator reads the same head of the queue and contends on the lease writes).
"""

from __future__ import annotations

import sys

# The issue named this bench/queue.py; it is bench/moderation_queue.py because a script folder
# is sys.path[0] and a queue.py there shadows the standard library's ``queue`` for every bench.
# Drop the folder from the import path all the same, so no sibling script can shadow anything.
sys.path[:] = [p for p in sys.path if p not in ("", __file__.rsplit("/", 1)[0])]

import argparse  # noqa: E402
import os  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "platform"), str(ROOT)]
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/fc_bench_queue"
TARGET_MS = 50.0


def ensure_database(url: str) -> None:
    from urllib.parse import urlparse

    import psycopg

    u = urlparse(url)
    name = u.path.lstrip("/")
    admin = url[: -len(u.path)] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
            print(f"created database {name}")


def setup(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def populate(rows: int, moderators: int) -> list:
    from django.db import connection

    from facecommons.accounts.models import User
    from facecommons.accounts.roles import grant_role
    from facecommons.contributions.models import Contribution, TaxonomyVersion

    owners = []
    for i in range(200):
        u, _ = User.objects.get_or_create(email=f"bench-owner-{i}@example.org")
        owners.append(u.pk)
    mods = []
    for i in range(moderators):
        u, _ = User.objects.get_or_create(email=f"bench-mod-{i}@example.org")
        grant_role(u, "moderator")
        mods.append(u)
    tax = TaxonomyVersion.objects.get(is_current=True)
    have = Contribution.objects.count()
    if have < rows:
        t0 = time.perf_counter()
        with connection.cursor() as cur:
            cur.execute("""
                INSERT INTO contributions_contribution
                  (id, owner_id, status, status_changed_at, created_at, updated_at, taxonomy_id, categories,
                   categories_free_text, corrected_categories, sha256, source_sha256, phash, width, height,
                   original_format, original_name, byte_size, rejection_code, rejection_message, error)
                SELECT md5('bench' || g)::uuid, (%s::bigint[])[1 + g %% 200], 'awaiting_review', now(),
                       now() - make_interval(secs => %s - g), now(), %s,
                       jsonb_build_object('age_range', '25_34', 'gender', 'woman',
                                          'ethnicity', jsonb_build_array('black'),
                                          'skin_tone', (1 + g %% 10)::text, 'accessories',
                                          jsonb_build_array('none'), 'lighting', 'indoor'),
                       '{}'::jsonb, '{}'::jsonb, md5(g::text) || md5(g::text || 'x'),
                       md5(g::text) || md5(g::text || 'x'), substr(md5(g::text || 'p'), 1, 16), 640, 640,
                       'JPEG', '', 100000, '', '', ''
                FROM generate_series(%s, %s) AS g
            """, [owners, rows, tax.pk, have + 1, rows])
            cur.execute("ANALYZE contributions_contribution")
        print(f"inserted {rows - have} contributions in {time.perf_counter() - t0:.1f} s")
    return mods


def reset() -> None:
    """Put the queue back: no reviews, leases or escalations; everything awaiting review."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("DELETE FROM moderation_review")
        cur.execute("DELETE FROM moderation_reviewlease")
        cur.execute("DELETE FROM moderation_escalation")
        cur.execute("UPDATE contributions_contribution SET status = 'awaiting_review', rejection_code = '', "
                    "rejection_message = '' WHERE status <> 'awaiting_review'")
        # Decided rows leave dead entries at the head of the queue index; clean them.
        cur.execute("VACUUM ANALYZE contributions_contribution")


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    k = min(len(values) - 1, max(0, round(p / 100 * (len(values) - 1))))
    return values[k]


def work(m, stop: float, barrier, out) -> None:
    """One moderator: lease, approve, repeat until ``stop``; put (lease_ms, decide_ms, refused, empty)."""
    from django.db import connection

    from facecommons.moderation.services import ModerationError, queue_lease_next, review_decide

    lease_ms, decide_ms, lease_cpu, decide_cpu, refused, empty = [], [], [], [], 0, 0
    try:
        barrier.wait()
        while time.time() < stop:
            t0, c0 = time.perf_counter(), time.thread_time()
            c = queue_lease_next(moderator=m)
            lease_ms.append((time.perf_counter() - t0) * 1000)
            lease_cpu.append((time.thread_time() - c0) * 1000)
            if c is None:
                empty += 1
                continue
            try:
                t2, c2 = time.perf_counter(), time.thread_time()
                review_decide(moderator=m, contribution=c, decision="approve")
                decide_ms.append((time.perf_counter() - t2) * 1000)
                decide_cpu.append((time.thread_time() - c2) * 1000)
            except ModerationError:
                refused += 1
    finally:
        connection.close()
        out.put((lease_ms, decide_ms, refused, empty, lease_cpu, decide_cpu))


def run(mods: list, seconds: float, label: str, mode: str) -> dict:
    from django.db import connections

    if mode == "processes":
        import multiprocessing as mp

        ctx = mp.get_context("fork")
        connections.close_all()  # children must not share the parent's socket
        barrier, out = ctx.Barrier(len(mods)), ctx.Queue()
        stop = time.time() + seconds + 1
        workers = [ctx.Process(target=work, args=(m, stop, barrier, out)) for m in mods]
    else:
        import queue as stdlib_queue

        barrier, out = threading.Barrier(len(mods)), stdlib_queue.Queue()
        stop = time.time() + seconds
        workers = [threading.Thread(target=work, args=(m, stop, barrier, out)) for m in mods]
    for w in workers:
        w.start()
    parts = [out.get() for _ in workers]
    for w in workers:
        w.join()
    lease_ms = [x for p in parts for x in p[0]]
    decide_ms = [x for p in parts for x in p[1]]
    refused, empty = sum(p[2] for p in parts), sum(p[3] for p in parts)
    cpu = {"lease-next": [x for p in parts for x in p[4]], "record-decision": [x for p in parts for x in p[5]]}
    print(f"\n{label} ({len(mods)} {mode}): {len(lease_ms)} leases, {len(decide_ms)} decisions in {seconds:.0f} s "
          f"({len(decide_ms) / seconds:.0f} decisions/s), {refused} refused decisions, {empty} empty reads")
    for name, vals in (("lease-next", lease_ms), ("record-decision", decide_ms)):
        p95 = pct(vals, 95)
        print(f"  {name:16s} p50 {pct(vals, 50):7.1f} ms  p95 {p95:7.1f} ms  p99 {pct(vals, 99):7.1f} ms  "
              f"(target p95 < {TARGET_MS:.0f} ms: {'met' if p95 < TARGET_MS else 'NOT met'}); "
              f"client CPU p50 {pct(cpu[name], 50):.1f} ms")
    return {"lease": lease_ms, "decide": decide_ms}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--moderators", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--baseline-seconds", type=float, default=10)
    ap.add_argument("--verbose", action="store_true", help="print the queue read's plan")
    ap.add_argument("--mode", choices=["processes", "threads"], default="processes",
                    help="moderators as processes (like web workers; default) or threads of one process (one GIL)")
    ap.add_argument("--database-url", default=os.environ.get("BENCH_QUEUE_DATABASE_URL", DEFAULT_URL))
    args = ap.parse_args()
    if not args.database_url.startswith(("postgres://", "postgresql://")):
        sys.exit("bench/moderation_queue.py needs PostgreSQL (--database-url postgres://…)")
    ensure_database(args.database_url)
    setup(args.database_url)
    from django.db import connection

    mods = populate(args.rows, args.moderators)
    from facecommons.contributions.models import Contribution

    print(f"PostgreSQL {connection.pg_version}; {Contribution.objects.filter(status='awaiting_review').count():,} "
          f"awaiting review; {args.moderators} moderators; consensus 2; load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    reset()
    with connection.cursor() as cur:
        cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + str(_queue_sql(mods[0])) + " FOR UPDATE SKIP LOCKED")
        plan = [r[0] for r in cur.fetchall()]
    print("  queue read (server side): " + "; ".join(line.strip() for line in plan if "Time" in line))
    if args.verbose:
        print("    " + "\n    ".join(plan))
    main_res = run(mods, args.seconds, "skip_locked", args.mode)
    if args.baseline_seconds > 0:
        reset()
        from django.db.backends.postgresql.features import DatabaseFeatures

        DatabaseFeatures.has_select_for_update_skip_locked = False
        try:
            base = run(mods, args.baseline_seconds, "baseline (no SKIP LOCKED)", args.mode)
        finally:
            DatabaseFeatures.has_select_for_update_skip_locked = True
        print(f"\nlease-next p95: {pct(main_res['lease'], 95):.1f} ms vs baseline {pct(base['lease'], 95):.1f} ms; "
              f"decisions/s: {len(main_res['decide']) / args.seconds:.0f} vs "
              f"{len(base['decide']) / args.baseline_seconds:.0f}")
    reset()


def _queue_sql(moderator):
    from django.utils import timezone

    from facecommons.moderation.services import CANDIDATE_BATCH, queue_candidates

    qs = queue_candidates(moderator=moderator, now=timezone.now()).values_list("pk", flat=True)[:CANDIDATE_BATCH]
    sql, params = qs.query.sql_with_params()
    from django.db import connection

    with connection.cursor() as cur:
        out = cur.mogrify(sql, params)
    return out.decode() if isinstance(out, bytes) else out


if __name__ == "__main__":
    main()
