"""What a batch has done, by content: ``.streamemo-batch.json`` in the --out folder maps
each finished input's sha256 to its output file. A file counts as done only once its
output is whole (renamed into place) and its entry saved; the ledger itself is replaced
in one rename, so a crash leaves the old one or the new one, never half of either.
Each entry keeps the fingerprint of the analysis it was made with (``settings_id``): a
file done with other models or options is analysed again."""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any

from streamemo.errors import InputError

LEDGER_NAME = ".streamemo-batch.json"
# the tables that decide what comes out; sinks and the source do not
ANALYSIS_TABLES = ("segmenter", "transcriber", "text", "audio", "fuser", "pipeline")


def settings_id(config: dict[str, Any]) -> str:
    """A short fingerprint of the config's analysis tables."""
    tables = {name: config.get(name) for name in ANALYSIS_TABLES}
    text = json.dumps(tables, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class Ledger:
    def __init__(self, out: Path):
        self.path = out / LEDGER_NAME
        self.files: dict[str, dict[str, Any]] = {}
        if self.path.exists():
            try:
                data = json.loads(self.path.read_text(encoding="utf-8"))
                self.files = dict(data["files"])
            except (OSError, ValueError, KeyError, TypeError) as exc:
                raise InputError(
                    f"cannot read the batch ledger {str(self.path)!r} ({exc}): move it away "
                    "(every file is then analysed again) or choose another --out"
                ) from None

    def done(self, digest: str, out: Path) -> dict[str, Any] | None:
        """The entry of a finished input with this content whose output is still there."""
        entry = self.files.get(digest)
        if entry is not None and (out / entry["output"]).is_file():
            return entry
        return None

    @staticmethod
    def same_settings(entry: dict[str, Any], settings: str) -> bool:
        # an entry from before fingerprints were kept counts as made with these
        return entry.get("settings", settings) == settings

    def record(self, digest: str, entry: dict[str, Any]) -> None:
        # an output now holds this content's events: entries naming it are no longer true
        for other, old in list(self.files.items()):
            if other != digest and old.get("output") == entry["output"]:
                del self.files[other]
        self.files[digest] = {**entry, "done_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
        self.save()

    def save(self) -> None:
        temp = self.path.with_name(self.path.name + ".part")
        temp.write_text(json.dumps({"version": 1, "files": self.files}, indent=1) + "\n")
        os.replace(temp, self.path)


def check_out(out: Path) -> None:
    """--out can be created and written (one line before any model loads)."""
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {str(out)!r} is a file: name a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".streamemo-write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise InputError(
            f"--out {str(out)!r} cannot be written ({exc.strerror or exc}): choose another folder"
        ) from None
