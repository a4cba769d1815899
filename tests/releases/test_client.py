"""The command-line client against a live test server: three versions, a withdrawal between."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parents[2]
# The client must run without Django: any import of it fails in the subprocess.
NO_DJANGO = ("import sys, runpy; sys.modules['django'] = None; "
             "runpy.run_module('facecommons_client', run_name='__main__', alter_sys=True)")


def _sync(live_server, token: str, dest: Path, *extra: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO", "DATABASE"))}
    env.update(PYTHONPATH=str(ROOT), FACECOMMONS_URL=live_server.url, FACECOMMONS_TOKEN=token)
    proc = subprocess.run([sys.executable, "-c", NO_DJANGO, "sync", "--version", "latest", "--no-progress", *extra,
                           str(dest)], capture_output=True, text=True, env=env, cwd=str(ROOT), timeout=300)
    assert proc.returncode == 0, proc.stderr + proc.stdout
    return proc.stdout


def _tree(dest: Path) -> dict[str, str]:
    root = dest / "facecommons"
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in root.rglob("*") if p.is_file()}


def _served(snap) -> dict[str, str]:
    from facecommons.releases import contents

    return {e.path: e.sha256 for e in contents.served_entries(snap)}


def test_client_syncs_three_versions_with_a_withdrawal(live_server, make_dataset, build, personal_token, researcher,
                                                      tmp_path, monkeypatch):
    from facecommons.accounts.services import account_withdraw
    from facecommons.releases.models import Download, RemovalAcknowledgement, SnapshotEntry, Subject

    dest = tmp_path / "copy"
    people = make_dataset(5)
    s1 = build()
    out = _sync(live_server, personal_token, dest)
    assert f"Snapshot {s1.version}" in out
    assert _tree(dest) == _served(s1)
    first_files = Download.objects.filter(kind="file").count()
    assert first_files == len(_served(s1))

    # Version 2: two new people, and one person withdraws after version 1 was downloaded.
    make_dataset(2, start=20)
    leaver = next(u for u, cs in people.items() if len(cs) >= 2)
    subject_id = Subject.objects.get(user=leaver).subject_id
    leaver_files = {p for e in SnapshotEntry.objects.filter(snapshot=s1, subject_id=subject_id)
                    for p in (e.file_name, *e.extra_files)}
    account_withdraw(user=leaver)  # transactional test: on-commit work runs at once
    s2 = build()
    assert RemovalAcknowledgement.objects.get(user=researcher, snapshot=s1).acknowledged_at is None
    out = _sync(live_server, personal_token, dest)
    assert f"Snapshot {s2.version} (was {s1.version})" in out
    assert _tree(dest) == _served(s2)
    assert not leaver_files & set(_tree(dest))
    assert f"withdrawn: {len([f for f in leaver_files if not f.endswith('.jsonl')])} files deleted" in out
    # Only what is new moved: the new photos' files and the documents that changed.
    moved = set(Download.objects.filter(kind="file").order_by("id").values_list("detail", flat=True)[first_files:])
    new_or_changed = {p for p, sha in _served(s2).items() if _served(s1).get(p) != sha}
    assert moved == new_or_changed
    assert not any(p.endswith(".jpg") and p in _served(s1) for p in moved)
    assert RemovalAcknowledgement.objects.get(user=researcher, snapshot=s1).acknowledged_at is not None

    # Version 3, and a file damaged locally is fetched again.
    make_dataset(1, start=40)
    s3 = build()
    victim = next(p for p in _tree(dest) if p.endswith(".jpg"))
    (dest / "facecommons" / victim).write_bytes(b"damaged")
    out = _sync(live_server, personal_token, dest)
    assert _tree(dest) == _served(s3)
    assert f"~ {victim}" in out
    state = json.loads((dest / ".facecommons" / "state.json").read_text())
    assert state["version"] == s3.version and state["held"] == [s1.version, s2.version, s3.version]

    # The copy loads with `datasets`.
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    import datasets

    ds = datasets.load_dataset("imagefolder", data_dir=str(dest / "facecommons"), cache_dir=str(tmp_path / "hf"))
    assert sum(len(ds[s]) for s in ds) == s3.counts["photos"]


def test_client_refuses_a_removal_manifest_signed_by_another_key(live_server, make_dataset, build, personal_token,
                                                                 tmp_path):
    import base64

    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    make_dataset(3)
    build()
    other = base64.b64encode(Ed25519PrivateKey.generate().public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw)).decode()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO", "DATABASE"))}
    env.update(PYTHONPATH=str(ROOT))
    proc = subprocess.run([sys.executable, "-c", NO_DJANGO, "sync", "--url", live_server.url, "--token",
                           personal_token, "--public-key", other, "--no-progress", str(tmp_path / "c")],
                          capture_output=True, text=True, env=env, cwd=str(ROOT), timeout=300)
    assert proc.returncode == 1 and "not signed by the platform's key" in proc.stderr
    assert not (tmp_path / "c" / "facecommons").exists()
