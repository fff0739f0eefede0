"""The inputs of a batch: folders (every audio file under them), globs, list files (a
``.txt`` of paths, one a line) and audio files named directly. All problems are found
here, before any model loads, and each is one line (``InputError``)."""

from __future__ import annotations

import glob
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from streamemo.errors import InputError

# what a folder's walk takes as audio; a file named directly is probed instead
AUDIO_SUFFIXES = frozenset(
    {".wav", ".wave", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".aif", ".aiff", ".au"}
)
LIST_SUFFIXES = frozenset({".txt", ".lst", ".list"})
_GLOB_CHARS = set("*?[")


@dataclass(frozen=True)
class Input:
    path: Path  # absolute
    rel: PurePosixPath  # where its output goes, relative to --out (before the suffix)


def find_inputs(args: list[str], cwd: Path | None = None) -> list[Input]:
    """Every input the arguments name, once each, in a stable order."""
    cwd = cwd or Path.cwd()
    found: dict[Path, Input] = {}
    for arg in args:
        for item in _expand(arg, cwd):
            found.setdefault(item.path, item)
    return sorted(found.values(), key=lambda i: (str(i.rel), str(i.path)))


def _expand(arg: str, cwd: Path) -> list[Input]:
    path = Path(arg).expanduser()
    if not path.is_absolute():
        path = cwd / path
    if path.is_dir():
        return _walk(path, arg)
    if path.is_file():
        if path.suffix.lower() in LIST_SUFFIXES:
            return _list_file(path, arg)
        return [_named(path, arg, cwd)]
    if _GLOB_CHARS & set(arg):
        matches = sorted(glob.glob(str(path), recursive=True))
        if not matches:
            raise InputError(f"{arg!r} matches no file: check the pattern (quote it for the shell)")
        files = [Path(m) for m in matches if Path(m).is_file()]
        audio = [f for f in files if f.suffix.lower() in AUDIO_SUFFIXES]
        if not audio:
            raise InputError(f"{arg!r} matches no audio file ({', '.join(sorted(AUDIO_SUFFIXES))})")
        return [Input(f.resolve(), _relative(f, cwd)) for f in audio]
    if os.path.lexists(path):
        raise InputError(f"{arg!r} is not a regular file or folder")
    raise InputError(f"{arg!r} does not exist: check the path")


def _walk(folder: Path, arg: str) -> list[Input]:
    inputs = []
    for root, dirs, names in os.walk(folder, followlinks=True):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))  # not .git, not --out's temp
        for name in sorted(names):
            f = Path(root) / name
            if f.suffix.lower() in AUDIO_SUFFIXES and f.is_file():
                inputs.append(Input(f.resolve(), PurePosixPath(f.relative_to(folder).as_posix())))
    if not inputs:
        raise InputError(
            f"folder {arg!r} holds no audio file ({', '.join(sorted(AUDIO_SUFFIXES))}): "
            "check the path"
        )
    return inputs


def _list_file(listing: Path, arg: str) -> list[Input]:
    """A list of paths, one a line (relative ones to the list's folder); # starts a comment."""
    try:
        lines = listing.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the list file {arg!r} ({exc})") from None
    inputs = []
    for number, line in enumerate(lines, 1):
        entry = line.strip()
        if not entry or entry.startswith("#"):
            continue
        path = Path(entry).expanduser()
        if not path.is_absolute():
            path = listing.parent / path
        if not path.is_file():
            raise InputError(f"{arg}:{number}: {entry!r} is not a file: fix the list")
        inputs.append(_named(path, f"{arg}:{number}: {entry}", listing.parent))
    if not inputs:
        raise InputError(f"the list file {arg!r} names no file")
    return inputs


def _named(path: Path, arg: str, base: Path) -> Input:
    """A file named directly (or in a list): it must decode as audio."""
    probe_audio(path, arg)
    return Input(path.resolve(), _relative(path, base))


def probe_audio(path: Path, what: str) -> None:
    from streamemo.audio_io import read_blocks

    try:
        first = read_blocks(path, block_seconds=0.05)
        try:
            next(first, None)
        finally:
            first.close()
    except InputError:
        raise InputError(f"{what!r} is not audio this reads (WAV, FLAC, OGG, MP3)") from None
    except OSError as exc:
        raise InputError(f"cannot read {what!r} ({exc.strerror or exc})") from None


def _relative(path: Path, base: Path) -> PurePosixPath:
    """The path under ``base`` when it is there, else its name alone."""
    try:
        return PurePosixPath(path.resolve().relative_to(base.resolve()).as_posix())
    except ValueError:
        return PurePosixPath(path.name)


def content_hash(path: Path) -> str:
    """sha256 of the file's bytes: a renamed file is the same input, a changed one is not."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def audio_seconds(path: Path) -> float | None:
    """The file's length from its header (no decoding), or None when it does not say."""
    try:
        import soundfile

        return soundfile.info(str(path)).duration
    except Exception:
        pass
    try:
        import av

        with av.open(str(path)) as container:
            if container.duration:
                return container.duration / 1_000_000
    except Exception:
        pass
    return None
