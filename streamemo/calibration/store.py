"""Where a calibration is written: checked before anything is recorded, then written
whole (a temporary file renamed over it), readable by its owner only (0600): a voice
baseline is a measurement of a person."""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from streamemo.default_plugins.voice_emotion.baselines import (
    NAME,
    PERSONAL,
    PRESETS,
    named_path,
    personal_path,
)
from streamemo.errors import ConfigError
from streamemo.paths import cannot_create

if TYPE_CHECKING:  # stats imports torch (the MFCC code): not for --help
    from streamemo.calibration.stats import Baseline


def target(out: str | None, name: str | None) -> Path:
    """The file to write: ``--out``, ``--name`` (baselines/NAME.json in the data folder)
    or the personal baseline there."""
    if out and name:
        raise ConfigError("--out and --name both say where to write: give one of them")
    if name is not None:
        if name in (*PRESETS, PERSONAL) or not NAME.fullmatch(name):
            raise ConfigError(
                f"--name {name!r}: 1-64 letters, digits, '_' or '-', "
                f"and not {', '.join((*PRESETS, PERSONAL))}"
            )
        return named_path(name)
    return Path(out).expanduser() if out else personal_path()


def check_writable(path: Path) -> None:
    """Before recording, creating nothing: the file can be written (one line otherwise)."""
    if path.is_dir():
        raise ConfigError(f"--out {str(path)!r} is a folder: give a file name (.json)")
    if why := cannot_create(path):
        raise ConfigError(
            f"cannot write the baseline {str(path)!r}: {why}; give --out PATH in a folder "
            "you can write"
        )


def write(path: Path, baseline: Baseline, about: dict[str, Any]) -> None:
    """The baseline as JSON (``mean``, ``std``: what ``audio.baseline`` reads) with what it
    was measured on; the folders made 0700, the file 0600."""
    record = {
        "mean": [float(x) for x in baseline.mean],
        "std": [float(x) for x in baseline.std],
        "windows": baseline.windows,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        **about,
        "formula": "delta = (mfcc_frame - mean) / (std + 1e-8); mean and std over the "
        "mean MFCC vectors of the 100-frame windows (hop 50) of neutral speech",
    }
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, temporary = tempfile.mkstemp(prefix=".baseline-", suffix=".json", dir=path.parent)
    try:  # mkstemp creates it 0600
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            json.dump(record, file, indent=1)
            file.write("\n")
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
