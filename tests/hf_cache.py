"""An HF hub cache made by hand, as ``hf download`` leaves it, for tests of the users'
hub path (a hub id with HF_HUB_OFFLINE=1) on machines that cannot reach the hub."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path


def fill_cache(model_dir: Path, cache: Path, repo_id: str, commit: str = "") -> Path:
    """``model_dir``'s files as ``repo_id`` in the HF_HUB_CACHE folder ``cache``: blobs, a
    snapshot of symlinks to them, refs/main; returns the snapshot folder."""
    commit = commit or hashlib.sha1(repo_id.encode()).hexdigest()
    repo = cache / f"models--{repo_id.replace('/', '--')}"
    snapshot = repo / "snapshots" / commit
    (repo / "blobs").mkdir(parents=True)
    snapshot.mkdir(parents=True)
    for file in model_dir.iterdir():
        blob = hashlib.sha256(file.read_bytes()).hexdigest()
        shutil.copyfile(file, repo / "blobs" / blob)
        (snapshot / file.name).symlink_to(Path("..", "..", "blobs", blob))
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit, encoding="utf-8")
    return snapshot
