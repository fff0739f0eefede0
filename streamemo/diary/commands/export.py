"""``streamemo diary export``: the whole diary or a span of it, as JSON, CSV or Markdown.

``--format json`` is lossless: every entry with every utterance event exactly as kept
(the shape is in ``streamemo.diary.exporting``). ``csv``: one row per utterance (entry,
local date and time, start, end, text, fused emotion and score, text and voice emotion
with their scores, mood). ``md``: a diary to read, a heading per day and per entry.
The format comes from --format, or else from the --out file's suffix. --out writes a file
only its owner can read (the diary is private), whole or not at all; without it, stdout.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from streamemo.diary.commands.listing import open_diary, span
from streamemo.diary.exporting import FORMATS, export
from streamemo.diary.store import DiaryError


def add(actions: argparse._SubParsersAction) -> list[argparse.ArgumentParser]:
    parser = actions.add_parser(
        "export",
        help="the diary as JSON (lossless), CSV or Markdown",
        description=__doc__.split("\n\n")[1],
    )
    parser.add_argument("--format", choices=FORMATS, help="json, csv or md (default: --out's)")
    parser.add_argument("--out", metavar="FILE", help="write here, mode 0600 (default: stdout)")
    parser.add_argument("--since", metavar="DATE", help="entries from this day on (YYYY-MM-DD)")
    parser.add_argument("--until", metavar="DATE", help="up to this day, itself included")
    parser.set_defaults(diary_run=export_diary)
    return [parser]


def export_diary(args: argparse.Namespace) -> int:
    out = _checked(Path(args.out).expanduser()) if args.out else None
    fmt = args.format or _from_suffix(args.out)
    since, until = span(args)
    with open_diary(args) as diary:
        if out is None:
            export(diary, fmt, sys.stdout, (since, until), (args.since, args.until))
            return 0
        fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)  # mode 0600
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as file:
                count = export(diary, fmt, file, (since, until), (args.since, args.until))
            os.replace(tmp, out)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    os.chmod(out, 0o600)
    print(f"{count} entries written to {out}", file=sys.stderr)
    return 0


def _from_suffix(out: str | None) -> str:
    suffix = Path(out).suffix.lower().lstrip(".") if out else ""
    fmt = {"markdown": "md"}.get(suffix, suffix)
    if fmt not in FORMATS:
        raise DiaryError("diary export needs a format: give --format md, csv or json")
    return fmt


def _checked(out: Path) -> Path:
    """--out in a folder that exists and can be written, checked before the diary opens."""
    if out.is_dir():
        raise DiaryError(f"--out {str(out)!r} is a folder: give a file name")
    if not out.parent.is_dir():
        raise DiaryError(f"--out {str(out)!r}: no folder {str(out.parent)!r}: create it first")
    if not os.access(out.parent, os.W_OK):
        raise DiaryError(f"--out {str(out)!r}: cannot write in {str(out.parent)!r}")
    return out
