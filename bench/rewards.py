"""Rewards costs on a throw-away test database (SQLite by default, DATABASE_URL for PostgreSQL).

    .venv/bin/python bench/rewards.py [--approved 5000] [--contributors 1000]

1. Crediting one approval on a dataset of N approved photos:
   - snapshot: the published multiplier snapshot is reused (REWARDS_MULTIPLIER_TTL_SECONDS=3600),
   - baseline: the multipliers are recomputed from the whole dataset at every approval (TTL 0).
2. Splitting a pool among K weights: ``largest_remainder`` (integers) vs a baseline with
   ``fractions.Fraction`` (the obvious exact implementation).
3. One payout round over C contributors with one credited photo each (whole round: lock,
   settlement of C points rows, C ledger legs, C lines, audit).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from fractions import Fraction
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "platform"), str(ROOT)]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402


def fraction_split(total: int, weights: dict[int, int]) -> dict[int, int]:
    wsum = sum(weights.values())
    exact = {k: Fraction(total * w, wsum) for k, w in weights.items()}
    parts = {k: int(v) for k, v in exact.items()}
    left = total - sum(parts.values())
    for k in sorted(exact, key=lambda k: exact[k] - parts[k], reverse=True)[:left]:
        parts[k] += 1
    return parts


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--approved", type=int, default=5000)
    ap.add_argument("--contributors", type=int, default=1000)
    ap.add_argument("--weights", type=int, default=100_000)
    args = ap.parse_args()

    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0)
    try:
        run(args)
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


def run(args: argparse.Namespace) -> None:
    import random

    from facecommons.accounts.models import User
    from facecommons.contributions.models import Contribution, TaxonomyVersion
    from facecommons.contributions.services import contribution_transition
    from facecommons.rewards.payouts import largest_remainder, payout_round_run
    from facecommons.rewards.providers import get_provider
    from tests.factories import DEFAULT_CATEGORIES

    print(f"database: {connection.vendor}")
    tax = TaxonomyVersion.objects.get(is_current=True)
    owner = User.objects.create_user(email="bench@example.org", password="x")
    eth = ["white", "black", "east_asian", "south_asian", "hispanic_latino", "indigenous"]
    rng = random.Random(1)

    def contribution(status: str, who: User) -> Contribution:
        sha = f"{rng.getrandbits(256):064x}"
        return Contribution(owner=who, status=status, taxonomy=tax,
                            categories={**DEFAULT_CATEGORIES, "ethnicity": [rng.choice(eth)]},
                            sha256=sha, source_sha256=sha, phash=f"{rng.getrandbits(64):016x}", width=1, height=1,
                            original_format="JPEG", byte_size=1)

    Contribution.objects.bulk_create([contribution("approved", owner) for _ in range(args.approved)], batch_size=1000)

    def time_approvals(ttl: int, n: int = 20) -> list[float]:
        settings.REWARDS_MULTIPLIER_TTL_SECONDS = ttl
        settings.REWARDS_MONTHLY_POINT_CAP = 10**9
        out = []
        for _ in range(n):
            c = contribution("awaiting_review", owner)
            c.save()
            t0 = time.perf_counter()
            contribution_transition(contribution=c, to="approved")  # on_commit: credit
            out.append(time.perf_counter() - t0)
        return out

    snap = time_approvals(3600)
    base = time_approvals(0)
    print(f"1. approval + credit, {args.approved} approved photos: snapshot median "
          f"{statistics.median(snap) * 1000:.1f} ms, baseline (recompute each time) "
          f"{statistics.median(base) * 1000:.1f} ms, x{statistics.median(base) / statistics.median(snap):.1f}")

    weights = {i: rng.randrange(1, 10**6) for i in range(args.weights)}
    total = 123_456_789
    t0 = time.perf_counter()
    a = largest_remainder(total, weights)
    t_lr = time.perf_counter() - t0
    t0 = time.perf_counter()
    b = fraction_split(total, weights)
    t_fr = time.perf_counter() - t0
    assert sum(a.values()) == sum(b.values()) == total
    print(f"2. split among {args.weights} weights: largest_remainder {t_lr * 1000:.0f} ms, "
          f"baseline Fraction {t_fr * 1000:.0f} ms, x{t_fr / t_lr:.1f}; identical sums: True")

    users = User.objects.bulk_create([User(email=f"c{i}@example.org") for i in range(args.contributors)])
    users = list(User.objects.filter(email__startswith="c", email__endswith="@example.org").exclude(pk=owner.pk))
    settings.REWARDS_MULTIPLIER_TTL_SECONDS = 3600
    for u in users:
        c = contribution("awaiting_review", u)
        c.save()
        contribution_transition(contribution=c, to="approved")
    get_provider("manual").record_donation(amount_minor=1_000_003)
    t0 = time.perf_counter()
    rnd = payout_round_run(started_by=None, period="bench")
    t_round = time.perf_counter() - t0
    assert sum(rnd.lines.values_list("amount_minor", flat=True)) == 1_000_003
    from facecommons.rewards.models import PointsEntry

    print(f"3. payout round, {rnd.lines.count()} contributors with points, "
          f"{PointsEntry.objects.filter(payout_round=rnd).count()} points rows settled: "
          f"{t_round * 1000:.0f} ms; pool split exactly: True")


if __name__ == "__main__":
    main()
