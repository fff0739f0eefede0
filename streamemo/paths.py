"""Whether a file can be made where a user asked, checked before anything is created."""

from __future__ import annotations

import tempfile
from pathlib import Path


def cannot_create(path: Path) -> str | None:
    """Why ``path`` could not be created, or None when it could: the nearest folder of it
    that exists (writing makes the rest) must be a folder this process can write in.
    Tried with a file that vanishes again: ``os.access`` says yes to root on a read-only
    disk."""
    folder = path.parent
    while not folder.exists():
        folder = folder.parent
    if not folder.is_dir():
        return f"{str(folder)!r} is a file, not a folder"
    try:
        tempfile.TemporaryFile(dir=folder).close()
    except OSError as exc:
        return f"cannot write in {str(folder)!r} ({exc.strerror or exc})"
    return None
