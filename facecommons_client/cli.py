"""``python -m facecommons_client sync [--url URL] [--token TOKEN] [--version latest] DIR``."""

from __future__ import annotations

import argparse
import os
import sys

from facecommons_client.sync import SyncError, sync
from facecommons_client.transport import ApiError


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m facecommons_client",
                                 description="Keep a local copy of a Face Commons snapshot in step.")
    sub = ap.add_subparsers(dest="command", required=True)
    s = sub.add_parser("sync", help="download what is missing, verify every checksum, delete withdrawn files")
    s.add_argument("directory", metavar="DIR")
    s.add_argument("--url", default=os.environ.get("FACECOMMONS_URL"), help="the site (or FACECOMMONS_URL)")
    s.add_argument("--token", default=os.environ.get("FACECOMMONS_TOKEN"),
                   help="your personal token fcr_... (or FACECOMMONS_TOKEN)")
    s.add_argument("--version", default="latest", help="a version such as 2026.11.0, or latest (default)")
    s.add_argument("--public-key", help="the platform's Ed25519 public key (base64), from the dataset page; "
                                        "default: pinned on first use")
    s.add_argument("--jobs", type=int, default=4, help="parallel downloads (default 4)")
    s.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = ap.parse_args(argv)
    if not args.url or not args.token:
        ap.error("give --url and --token (or set FACECOMMONS_URL and FACECOMMONS_TOKEN)")
    try:
        report = sync(url=args.url, token=args.token, version=args.version, directory=args.directory,
                      public_key=args.public_key, jobs=args.jobs, progress=False if args.no_progress else None)
    except (SyncError, ApiError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print("\n".join(report.lines()))
    return 0
