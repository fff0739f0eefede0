"""The lexicon-derived arrays, cached in ``$STREAMEMO_CACHE`` (default ``~/.cache/streamemo``),
keyed by the encoder folder, its weight files, the lexicon's hash and the method's settings."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from streamemo.default_plugins.offline_text.lexicon import WEIGHT_DECAY
from streamemo.default_plugins.offline_text.prototypes import PROTOTYPES, TEMPERATURE

# Bump when prototypes, lexicon labelling or the regression change, to invalidate caches.
VERSION = "3"


def cache_dir() -> Path:
    env = os.environ.get("STREAMEMO_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "streamemo"


def cache_key(model_dir: Path, lexicon: bytes) -> str:
    h = hashlib.sha256()
    h.update(f"v{VERSION}|{TEMPERATURE}|{WEIGHT_DECAY}|{model_dir}".encode())
    # Size + mtime of the weight/tokenizer files: cheap, unlike hashing ~90 MB at start-up.
    for f in sorted(model_dir.iterdir()):
        if f.is_file():
            st = f.stat()
            h.update(f"|{f.name}:{st.st_size}:{st.st_mtime_ns}".encode())
    h.update(hashlib.sha256(lexicon).digest())
    h.update(json.dumps(PROTOTYPES, sort_keys=True).encode())
    return h.hexdigest()[:24]


_CACHE_KEYS = ("prototypes", "prototype_label", "lex_weight", "lex_bias")


def read(path: Path) -> dict[str, np.ndarray] | None:
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile):
        return None  # missing or corrupt: rebuild
    return arrays if all(k in arrays for k in _CACHE_KEYS) else None


def write(path: Path, arrays: dict[str, np.ndarray]) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".npz.tmp")
    except OSError:
        return  # an unwritable cache only costs the rebuild next time
    try:
        # Write then rename, so a concurrent reader never sees a half-written file.
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, **arrays)
        Path(tmp).replace(path)
    except OSError:
        Path(tmp).unlink(missing_ok=True)
