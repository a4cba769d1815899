"""Keep DIR in step with a snapshot version.

DIR/facecommons/ holds the files exactly as in the archive (so ``datasets.load_dataset(
"imagefolder", data_dir="DIR/facecommons")`` works); DIR/.facecommons/state.json remembers the
server, the version held, every version ever held, and the platform's public key (pinned on
first use, or given with --public-key).

A sync: (1) read the version's manifest; (2) apply the signed removal manifest of every version
held since the first (its signature checked against the pinned key: an unsigned or forged list
deletes nothing and stops the sync), and acknowledge it; (3) delete files the new version no
longer lists (the delta from the version held); (4) download what is missing or differs, in
parallel, resumable, each checked against its SHA-256; (5) check every file's SHA-256.
"""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from facecommons_client.progress import Bar
from facecommons_client.signature import verify
from facecommons_client.transport import Api, file_sha256

ROOT = "facecommons"
STATE = ".facecommons/state.json"


class SyncError(Exception):
    pass


@dataclass
class Report:
    version: str = ""
    previous: str = ""
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    withdrawn: list[str] = field(default_factory=list)
    downloaded_bytes: int = 0
    verified: int = 0

    def lines(self) -> list[str]:
        head = (f"Snapshot {self.version}" + (f" (was {self.previous})" if self.previous and self.previous != self.version
                                               else ""))
        out = [head,
               f"  added:     {len(self.added)} files ({self.downloaded_bytes / 1e6:,.1f} MB downloaded)",
               f"  updated:   {len(self.updated)} files",
               f"  removed:   {len(self.removed)} files no longer in this version",
               f"  withdrawn: {len(self.withdrawn)} files deleted (signed removal manifest)",
               f"  verified:  {self.verified} files, every SHA-256 matches"]
        for label, names in (("+", self.added), ("~", self.updated), ("-", self.removed), ("x", self.withdrawn)):
            out += [f"  {label} {n}" for n in names[:20]]
            if len(names) > 20:
                out.append(f"  {label} ... and {len(names) - 20} more")
        return out


def _load_state(directory: str) -> dict[str, Any]:
    path = os.path.join(directory, STATE)
    if os.path.exists(path):
        with open(path, encoding="utf-8") as fh:
            return dict(json.load(fh))
    return {}


def _save_state(directory: str, state: dict[str, Any]) -> None:
    path = os.path.join(directory, STATE)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(state, fh, indent=2)
    os.replace(tmp, path)


def _local(directory: str, rel: str) -> str:
    path = os.path.normpath(os.path.join(directory, ROOT, rel))
    if not path.startswith(os.path.join(os.path.abspath(directory), ROOT) + os.sep):
        raise SyncError(f"refusing a path outside the dataset folder: {rel}")
    return path


def _remove(directory: str, rel: str) -> bool:
    path = _local(directory, rel)
    if os.path.exists(path):
        os.unlink(path)
        return True
    return False


def sync(*, url: str, token: str, version: str, directory: str, public_key: str | None = None, jobs: int = 4,
         progress: bool | None = None) -> Report:
    directory = os.path.abspath(directory)
    api = Api(url, token)
    state = _load_state(directory)
    if state.get("url") and state["url"].rstrip("/") != url.rstrip("/"):
        raise SyncError(f"{directory} holds a copy from {state['url']}, not {url}")
    key = public_key or state.get("public_key") or api.get_json("snapshots/signing-key/")["public_key"]
    if state.get("public_key") and key != state["public_key"]:
        raise SyncError("the server's signing key differs from the one pinned in this copy; refusing to go on")
    manifest = api.get_json(f"snapshots/{version}/manifest/")
    report = Report(version=manifest["version"], previous=state.get("version", ""))
    held = list(dict.fromkeys([*state.get("held", []), manifest["version"]]))

    # Withdrawals first: what must go goes even if the rest of the sync fails.
    for v in sorted(set(held)):
        signed = api.get_json(f"snapshots/{v}/removals/")
        if not verify(signed, key):
            raise SyncError(f"the removal manifest of {v} is not signed by the platform's key; nothing deleted")
        for f in signed["manifest"]["files"]:
            if _remove(directory, f["path"]):
                report.withdrawn.append(f["path"])
        api.post_json(f"snapshots/{v}/removals/ack/", {"sha256": signed["sha256"]})

    files = {f["path"]: f for f in manifest["files"] if f["path"] not in set(manifest.get("withdrawn", []))}
    if state.get("version") and state["version"] != manifest["version"]:
        delta = api.get_json(f"snapshots/{manifest['version']}/delta/?from={state['version']}")
        for change in delta["changes"]:
            if change["op"] == "remove" and _remove(directory, change["path"]):
                report.removed.append(change["path"])

    todo = []
    for rel, f in sorted(files.items()):
        path = _local(directory, rel)
        if os.path.exists(path) and os.path.getsize(path) == f["size"] and file_sha256(path) == f["sha256"]:
            report.verified += 1
            continue
        (report.updated if os.path.exists(path) else report.added).append(rel)
        todo.append(f)
    bar = Bar(sum(f["size"] for f in todo), label="downloading", enabled=progress)

    def fetch(f: dict[str, Any]) -> None:
        path = _local(directory, f["path"])
        os.makedirs(os.path.dirname(path), exist_ok=True)
        api.download(f"snapshots/{manifest['version']}/files/{f['path']}", path, sha256=f["sha256"], size=f["size"],
                     progress=bar)

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        for _ in pool.map(fetch, todo):
            pass
    bar.close()
    report.downloaded_bytes = bar.done
    for f in todo:  # downloaded files were checked on arrival; check them again where they lie
        if file_sha256(_local(directory, f["path"])) != f["sha256"]:
            raise SyncError(f"{f['path']}: checksum mismatch after download")
        report.verified += 1
    _save_state(directory, {"url": url, "version": manifest["version"], "manifest_sha256": manifest["manifest_sha256"],
                            "held": held, "public_key": key})
    return report
