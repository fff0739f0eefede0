"""A folder of labelled clips, in the layouts emotional-speech corpora come in.

- ``csv``: a CSV of ``path,label`` (a header row is optional; columns may be named
  path/file/filename/wav and label/emotion), paths relative to the CSV; DIR may be the
  CSV itself, or a folder holding exactly one;
- ``json``: a JSON list of ``{"file": ..., "label": ...}`` (or path/emotion), as the
  shared clips' ``index.json``; DIR may be the file, or a folder holding ``index.json``;
- ``ravdess``: RAVDESS-style names in DIR or its subfolders, ``03-01-05-01-01-01-12.wav``,
  whose third field is the emotion (01 neutral ... 08 surprised);
- ``folders``: label-named subfolders of audio files (``DIR/angry/x.wav``).
  Only DIR and one level below it are looked at.

Detected in that order (RAVDESS keeps its clips in ``Actor_NN`` folders, which would
look like labels), or chosen with ``--layout``.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

AUDIO = (".wav", ".flac", ".ogg", ".mp3")
LAYOUTS = ("csv", "json", "ravdess", "folders")
RAVDESS = re.compile(r"\d\d-\d\d-(\d\d)-\d\d-\d\d-\d\d-\d\d\.wav", re.IGNORECASE)
RAVDESS_EMOTIONS = {
    "01": "neutral", "02": "calm", "03": "happy", "04": "sad",
    "05": "angry", "06": "fearful", "07": "disgust", "08": "surprised",
}  # fmt: skip
PATH_COLUMNS = ("path", "file", "filename", "wav", "audio")
LABEL_COLUMNS = ("label", "emotion")


class CorpusError(Exception):
    """A folder that is not a labelled corpus: one line that says what to give."""


Clips = list[tuple[Path, str]]


def load(root: Path, layout: str | None = None) -> tuple[str, Clips]:
    """The layout found (or asked for) and its (clip, label) pairs."""
    if not root.exists():
        raise CorpusError(f"{root} not found: give a folder of labelled clips or a CSV")
    layouts = [layout] if layout else LAYOUTS
    for name in layouts:
        clips = {"csv": _csv, "json": _json, "ravdess": _ravdess, "folders": _folders}[name](root)
        if clips:
            return name, clips
    if layout:
        raise CorpusError(f"{root} has no labelled clips in the {layout} layout")
    raise CorpusError(
        f"{root} has no labelled clips: give a CSV of path,label, label-named subfolders "
        "of audio files, or RAVDESS-style names (03-01-05-01-01-01-12.wav)"
    )


def _csv(root: Path) -> Clips:
    if root.is_file():
        table = root
    else:
        found = sorted(root.glob("*.csv"))
        if not found:
            return []
        if len(found) > 1:
            names = ", ".join(p.name for p in found)
            raise CorpusError(f"{root} holds several CSVs ({names}): give the one to use")
        table = found[0]
    with table.open(newline="", encoding="utf-8-sig") as file:
        rows = [row for row in csv.reader(file) if any(cell.strip() for cell in row)]
    if not rows:
        raise CorpusError(f"{table} is empty: one path,label row per clip")
    path_at, label_at = 0, 1
    head = [cell.strip().lower() for cell in rows[0]]
    if any(c in PATH_COLUMNS for c in head) and any(c in LABEL_COLUMNS for c in head):
        path_at = next(i for i, c in enumerate(head) if c in PATH_COLUMNS)
        label_at = next(i for i, c in enumerate(head) if c in LABEL_COLUMNS)
        rows = rows[1:]
    clips: Clips = []
    for row in rows:
        if len(row) <= max(path_at, label_at) or not row[label_at].strip():
            raise CorpusError(f"{table}: row {row!r} has no label: one path,label row per clip")
        path = table.parent / row[path_at].strip()
        if not path.is_file():
            raise CorpusError(f"{table}: {row[path_at].strip()!r} not found (relative to the CSV)")
        clips.append((path, row[label_at].strip()))
    return clips


def _json(root: Path) -> Clips:
    index = root if root.is_file() and root.suffix == ".json" else root / "index.json"
    if not index.is_file():
        return []
    try:
        rows = json.loads(index.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise CorpusError(f"{index} is not JSON ({exc})") from None
    clips: Clips = []
    for row in rows if isinstance(rows, list) else []:
        path = next((row[k] for k in PATH_COLUMNS if isinstance(row, dict) and k in row), None)
        label = next((row[k] for k in LABEL_COLUMNS if isinstance(row, dict) and k in row), None)
        if not isinstance(path, str) or not isinstance(label, str):
            raise CorpusError(f'{index}: {row!r} is not {{"file": ..., "label": ...}}')
        if not (index.parent / path).is_file():
            raise CorpusError(f"{index}: {path!r} not found (relative to the index)")
        clips.append((index.parent / path, label))
    return clips


def _audio_in(folder: Path, depth: int) -> list[Path]:
    """The audio files in ``folder`` and, with ``depth`` 2, in its subfolders (as RAVDESS's
    Actor_NN): never a walk through a whole tree."""
    patterns = ["*", "*/*"][:depth]
    found = (p for pattern in patterns for p in folder.glob(pattern))
    return sorted(p for p in found if p.suffix.lower() in AUDIO and p.is_file())


def _ravdess(root: Path) -> Clips:
    if root.is_file():
        return []
    files = _audio_in(root, 2)
    matched = [(p, RAVDESS.fullmatch(p.name)) for p in files]
    if not files or not all(m for _, m in matched):
        return []
    bad = sorted({m[1] for _, m in matched if m and m[1] not in RAVDESS_EMOTIONS})
    if bad:
        raise CorpusError(f"{root}: RAVDESS emotion code(s) {', '.join(bad)}: 01-08 only")
    return [(p, RAVDESS_EMOTIONS[m[1]]) for p, m in matched if m]


def _folders(root: Path) -> Clips:
    if root.is_file():
        return []
    return [
        (clip, folder.name)
        for folder in sorted(p for p in root.iterdir() if p.is_dir())
        for clip in _audio_in(folder, 1)
    ]
