"""Where the neutral baselines of ``todai-cnn-bilstm`` come from: the seed's ``male`` and
``female`` presets (in the model folder), ``personal`` (the one ``streamemo calibrate``
stores in the user's data folder), a stored baseline by name (``streamemo calibrate --name
NAME``: ``baselines/NAME.json`` there), or a JSON/NPZ file of anyone's ``mean`` and ``std``.
"""

from __future__ import annotations

import re
from pathlib import Path

from streamemo.api import ConfigError

PRESETS = ("male", "female")
PERSONAL = "personal"
# a stored baseline's name: never a path (no separators, no dots), so a name chosen by
# someone else (a serve client's hello) can only ever mean a file in baselines/
NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
USAGE = "set -o audio.baseline=male|female|personal|NAME|PATH.json"


def data_folder() -> Path:
    """The user's data folder (``~/.local/share/streamemo`` on Linux), as the diary's."""
    from platformdirs import user_data_path

    return user_data_path("streamemo")


def personal_path() -> Path:
    """Where ``streamemo calibrate`` keeps the user's own baseline."""
    return data_folder() / "baseline.json"


def named_path(name: str) -> Path:
    """Where ``streamemo calibrate --name NAME`` keeps a baseline."""
    if not NAME.fullmatch(name):
        raise ConfigError(f"baseline name {name!r}: 1-64 letters, digits, '_' or '-'")
    return data_folder() / "baselines" / f"{name}.json"


def stored_file(name: str) -> Path | None:
    """The stored baseline ``personal`` or NAME means, if it exists (never a path: see NAME)."""
    if name == PERSONAL:
        path = personal_path()
    elif NAME.fullmatch(name):
        path = named_path(name)
    else:
        return None
    return path if path.is_file() else None


def baseline_file(baseline: str) -> Path:
    """The file a non-preset ``audio.baseline`` means: ``personal``, a file, or a stored
    name (a file of that name in the working folder comes first, as before names)."""
    if baseline == PERSONAL:
        path = personal_path()
        if not path.is_file():
            raise ConfigError(
                f"audio.baseline=personal: no personal baseline at {str(path)!r}: "
                "run streamemo calibrate first"
            )
        return path
    path = Path(baseline).expanduser()
    if path.is_file():
        return path
    found = stored_file(baseline)
    if found is None:
        raise ConfigError(
            f"audio.baseline {baseline!r} is neither male, female nor a file, personal or "
            f"a baseline stored by streamemo calibrate --name: {USAGE}"
        )
    return found
