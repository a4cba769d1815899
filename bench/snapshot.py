"""Snapshot build benchmark: throughput against `tar`, peak memory vs N, incremental rebuild.

    .venv/bin/python bench/snapshot.py [--photos 10000] [--small 1000] [--phone 0] [--keep]

For each size (``--small`` and ``--photos``) a fresh subprocess sets up a scratch SQLite
database and private storage (Django's test settings, a temporary folder), generates N
approved photos (JPEGs of 50-150 KB, each unique; with ``--phone N`` also N photos of the size
uploads are stored at, 4032x3024 JPEGs of 1-4 MB; two aligned crops per
photo as the pipeline leaves them; ~3 photos per person, varied categories), then:

1. ``tar -cf`` of the same image files (originals and crops), timed: the baseline;
2. the first snapshot build from an empty store (``releases.build.snapshot_build``, the Celery
   task's body), timed, with the peak resident memory during the build (Linux: VmHWM reset
   through /proc/self/clear_refs just before, read just after; minus the RSS before the build);
3. 1 % new photos, then a second snapshot build, timed.

Each size runs twice: with the store's default hard links (``link``: the photos' storage and the
store share a file system, no byte moves) and with ``RELEASES_BLOB_LINK=false`` (``copy``: every
new file copied and its SHA-256 checked, as on object storage or another file system).

Throughput is image bytes per second (the same bytes for both). Targets: build >= 0.5x tar,
peak memory not growing with N, second build <= 5 % of the first.
"""

from __future__ import annotations

import sys

# bench/ holds other scripts (one is named queue.py): keep them from shadowing the standard
# library, which Python would otherwise search after this script's own folder.
sys.path[:] = [p for p in sys.path if p not in ("", __file__.rsplit("/", 1)[0])]

import argparse  # noqa: E402
import hashlib  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


# --- worker (one size, in its own process) -------------------------------------------------------

def _base_jpegs(n: int, rng: random.Random, phone: bool = False) -> list[bytes]:
    import numpy as np
    from PIL import Image

    out = []
    while len(out) < n:
        w, h = rng.choice([(4032, 3024), (3024, 4032)] if phone else [(640, 480), (800, 600), (720, 960), (960, 720)])
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        base = np.stack([(xx * rng.uniform(0.1, 0.4) + yy * rng.uniform(0.1, 0.3)) % 256,
                         (yy * rng.uniform(0.1, 0.5)) % 256, (xx * rng.uniform(0.2, 0.6)) % 256], axis=-1)
        noise = np.random.default_rng(rng.randrange(1 << 30)).normal(0, rng.uniform(2, 4) if phone
                                                                     else rng.uniform(6, 14), base.shape)
        img = Image.fromarray(np.clip(base + noise, 0, 255).astype("uint8"))
        buf = io.BytesIO()
        img.save(buf, "JPEG", quality=rng.choice([80, 85, 90]))
        if (1_000_000 <= buf.tell() <= 4_000_000) if phone else (50_000 <= buf.tell() <= 150_000):
            out.append(buf.getvalue())
    return out


def _crop_jpegs(n: int, size: int, rng: random.Random) -> list[bytes]:
    import numpy as np
    from PIL import Image

    out = []
    for _ in range(n):
        arr = np.random.default_rng(rng.randrange(1 << 30)).normal(128, 30, (size, size, 3))
        buf = io.BytesIO()
        Image.fromarray(np.clip(arr, 0, 255).astype("uint8")).save(buf, "JPEG", quality=90)
        out.append(buf.getvalue())
    return out


def _unique(jpeg: bytes, tag: int) -> bytes:
    """A distinct, valid JPEG: a COM segment with ``tag`` right after SOI."""
    payload = f"bench-{tag}".encode()
    return jpeg[:2] + b"\xff\xfe" + (len(payload) + 2).to_bytes(2, "big") + payload + jpeg[2:]


def _generate(n: int, start: int, rng: random.Random, media: Path, bases: list[bytes],
              crops: dict[int, list[bytes]]) -> int:
    """Write n photos (+2 crops each) to storage and their rows; returns image bytes written."""
    from django.utils import timezone

    from facecommons.accounts.models import ConsentAcceptance, ConsentVersion, User
    from facecommons.contributions.models import Contribution, ContributionFile, TaxonomyVersion
    from facecommons.pipeline.models import PhotoAnalysis

    tax = TaxonomyVersion.objects.get(is_current=True)
    consent = ConsentVersion.objects.order_by("-version").first()
    genders = ["woman", "man", "non_binary", "prefer_not_to_say"]
    ages = ["18_24", "25_34", "35_44", "45_54", "55_64", "65_plus"]
    eths = [["black"], ["east_asian"], ["white"], ["south_asian"], ["hispanic_latino"], ["mena"], ["white", "black"]]
    people = max(1, n // 3)
    users = User.objects.bulk_create([User(email=f"bench{start + i}@example.org", password="!") for i in range(people)])
    now = timezone.now()
    ConsentAcceptance.objects.bulk_create([ConsentAcceptance(user=u, version=consent, adult_confirmed=True,
                                                             accepted_at=now) for u in users])
    total = 0
    contribs, files, analyses = [], [], []
    for i in range(n):
        tag = start + i
        owner = users[i % people]
        data = _unique(bases[tag % len(bases)], tag)
        sha = hashlib.sha256(data).hexdigest()
        key = f"originals/{sha[:2]}/{sha}.jpg"
        path = media / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        total += len(data)
        p = owner.pk
        c = Contribution(owner=owner, status="approved", taxonomy=tax, sha256=sha, source_sha256=sha,
                         phash=f"{rng.getrandbits(64):016x}", width=640, height=480, original_format="JPEG",
                         byte_size=len(data), categories={
                             "gender": genders[p % 4], "age_range": ages[p % 6], "ethnicity": eths[p % 7],
                             "skin_tone": str(1 + p % 10), "accessories": ["none"], "lighting": "indoor"})
        contribs.append(c)
        files.append(ContributionFile(contribution=c, variant="original", key=key, sha256=sha, byte_size=len(data)))
        for variant, size in (("crop", 112), ("crop224", 224)):
            cdata = _unique(crops[size][tag % len(crops[size])], tag)
            csha = hashlib.sha256(cdata).hexdigest()
            ckey = f"derived/{csha[:2]}/{csha}.jpg"
            (media / ckey).parent.mkdir(parents=True, exist_ok=True)
            (media / ckey).write_bytes(cdata)
            total += len(cdata)
            files.append(ContributionFile(contribution=c, variant=variant, key=ckey, sha256=csha,
                                          byte_size=len(cdata), width=size, height=size))
        analyses.append(PhotoAnalysis(contribution=c, verdict_code="ok", face={
            "box": [100.0, 80.0, 300.0, 320.0], "score": 0.98,
            "landmarks": [[150.0, 160.0], [250.0, 160.0], [200.0, 210.0], [160.0, 260.0], [240.0, 260.0]]}))
        if len(contribs) == 1000 or i == n - 1:
            Contribution.objects.bulk_create(contribs)
            ContributionFile.objects.bulk_create(files)
            PhotoAnalysis.objects.bulk_create(analyses)
            contribs, files, analyses = [], [], []
    return total


def _rss_kb(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _build(admin) -> tuple[float, int, int, object]:  # type: ignore[no-untyped-def]
    from facecommons.releases.build import snapshot_build
    from facecommons.releases.services import snapshot_request

    snap = snapshot_request(actor=admin, enqueue=False)
    time.sleep(0.01)
    before = _rss_kb("VmRSS")
    _reset_peak()
    t = time.perf_counter()
    if os.environ.get("BENCH_SQL"):  # the slowest statements of the build, to stderr
        from django.db import connection

        timings: list[tuple[float, str]] = []

        def timed(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
            t0 = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                timings.append((time.perf_counter() - t0, sql[:160]))

        with connection.execute_wrapper(timed):
            result = snapshot_build(snapshot_id=snap.pk)
        print(f"SQL: {len(timings)} statements, {sum(t for t, _ in timings):.3f} s", file=sys.stderr)
        for t, sql in sorted(timings, reverse=True)[:12]:
            print(f"  {t * 1000:7.1f} ms  {sql}", file=sys.stderr)
    elif os.environ.get("BENCH_PROFILE"):
        import cProfile
        import pstats

        prof = cProfile.Profile()
        result = prof.runcall(snapshot_build, snapshot_id=snap.pk)
        pstats.Stats(prof, stream=sys.stderr).sort_stats(os.environ.get("BENCH_PROFILE_SORT", "cumulative")).print_stats(35)
    else:
        result = snapshot_build(snapshot_id=snap.pk)
    elapsed = time.perf_counter() - t
    peak = _rss_kb("VmHWM")
    return elapsed, before, peak, result


def worker(n: int, keep: bool, mode: str, phone: bool = False) -> dict:
    scratch = Path(tempfile.mkdtemp(prefix="fc-bench-snapshot-"))
    os.environ["TEST_VAR_DIR"] = str(scratch)
    os.environ["RELEASES_BLOB_LINK"] = "true" if mode == "link" else "false"
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    for p in (ROOT / "platform", ROOT):
        sys.path.insert(0, str(p))
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test.utils import setup_test_environment

    setup_test_environment()
    connection.creation.create_test_db(verbosity=0, autoclobber=True)
    from facecommons.accounts.services import account_create

    admin = account_create(email="admin@example.org", password="bench-password-123", role="admin")
    # A Celery worker imports these once in its life; here they would be charged to the first
    # build only (pyarrow; the evaluation app's reaction to a publication imports scikit-learn).
    import importlib

    for module in ("pyarrow.parquet", "facecommons.evaluation.tasks"):
        try:
            importlib.import_module(module)
        except ImportError:
            pass
    media = Path(settings.MEDIA_ROOT)
    rng = random.Random(42)
    t = time.perf_counter()
    bases = _base_jpegs(8 if phone else 48, rng, phone)
    crops = {112: _crop_jpegs(16, 112, rng), 224: _crop_jpegs(16, 224, rng)}
    image_bytes = _generate(n, 0, rng, media, bases, crops)
    gen_s = time.perf_counter() - t

    tar_path = scratch / "baseline.tar"
    t = time.perf_counter()
    subprocess.run(["tar", "-cf", str(tar_path), "-C", str(media), "originals", "derived"], check=True)
    tar_s = time.perf_counter() - t
    tar_size = tar_path.stat().st_size
    tar_path.unlink()

    first_s, rss_before, peak, s1 = _build(admin)
    extra = max(1, n // 100)
    _generate(extra, n, rng, media, bases, crops)
    second_s, _, peak2, s2 = _build(admin)
    result = {
        "photos": n, "mode": mode, "phone": phone, "stored_mb": s1.counts["stored_bytes"] / 1e6,
        "second_stored_mb": s2.counts["stored_bytes"] / 1e6, "image_mb": image_bytes / 1e6, "generate_s": gen_s,
        "tar_s": tar_s, "tar_mb_s": image_bytes / 1e6 / tar_s, "tar_size": tar_size,
        "build_s": first_s, "build_mb_s": image_bytes / 1e6 / first_s, "archive_size": s1.archive_size,
        "rss_before_mb": rss_before / 1024, "peak_rss_mb": peak / 1024, "peak_delta_mb": (peak - rss_before) / 1024,
        "second_photos": n + extra, "second_s": second_s, "second_peak_rss_mb": peak2 / 1024,
        "second_share": second_s / first_s, "added": s2.counts.get("added_photos"),
    }
    connection.creation.destroy_test_db(connection.settings_dict["NAME"], verbosity=0)
    if not keep:
        shutil.rmtree(scratch, ignore_errors=True)
    return result


# --- driver ---------------------------------------------------------------------------------------

def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--photos", type=int, default=10_000)
    ap.add_argument("--small", type=int, default=1_000)
    ap.add_argument("--phone", type=int, default=0,
                    help="also N photos of phone size (4032x3024, 1-4 MB), as uploads are stored")
    ap.add_argument("--keep", action="store_true", help="keep the scratch folders")
    ap.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--mode", default="link", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        print("RESULT " + json.dumps(worker(args.worker, args.keep, args.mode.removesuffix("-phone"),
                                            args.mode.endswith("-phone"))))
        return
    results = []
    sizes = [(args.small, ""), (args.photos, "")] + ([(args.phone, "-phone")] if args.phone else [])
    for n, kind in sizes:
        for mode in ("link", "copy"):
            cmd = [sys.executable, __file__, "--worker", str(n), "--mode", mode + kind] + (["--keep"] if args.keep else [])
            out = subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=ROOT)
            line = next(x for x in out.stdout.splitlines() if x.startswith("RESULT "))
            r = json.loads(line[7:])
            results.append(r)
            print(f"N={n}{kind} ({mode}): generated {r['image_mb']:.0f} MB in {r['generate_s']:.1f} s", flush=True)
    print()
    print("| photos | store | image MB | tar -cf s | tar MB/s | 1st build s | build MB/s | build/tar | stored MB | "
          "RSS before MB | peak RSS in build MB | 2nd build (+1%) s | stored MB | 2nd/1st |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        print(f"| {r['photos']}{' phone' if r['phone'] else ''} | {r['mode']} | {r['image_mb']:.0f} | {r['tar_s']:.2f} | {r['tar_mb_s']:.0f} | "
              f"{r['build_s']:.2f} | {r['build_mb_s']:.0f} | {r['build_mb_s'] / r['tar_mb_s']:.2f} | "
              f"{r['stored_mb']:.0f} | {r['rss_before_mb']:.0f} | {r['peak_rss_mb']:.0f} | {r['second_s']:.2f} | "
              f"{r['second_stored_mb']:.1f} | {100 * r['second_share']:.0f} % |")


if __name__ == "__main__":
    main()
