"""``streamemo diary delete ID``: an entry gone for good, with its utterances and audio.

Really gone from the file, not only from the lists: the rows are overwritten (SQLite's
secure_delete), the search index is rebuilt without them, the write-ahead log is
checkpointed and emptied, and the kept recording (``diary-audio/ID.flac``) is removed.
On a terminal it asks first; elsewhere (a script, CI) it deletes only with --yes, and
without it refuses (exit 2) rather than guess. An unknown ID is one line and exit 2 with
nothing touched; answering no keeps the entry (exit 1).
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime

from streamemo.diary.commands.listing import open_diary
from streamemo.diary.store import DiaryError, Entry


def add(actions: argparse._SubParsersAction) -> list[argparse.ArgumentParser]:
    parser = actions.add_parser(
        "delete",
        help="delete an entry for good: its utterances and its kept audio",
        description=__doc__.split("\n\n")[1],
    )
    parser.add_argument("id", type=int, metavar="ID", help="the entry's number (see diary list)")
    parser.add_argument("--yes", action="store_true", help="delete without asking")
    parser.set_defaults(diary_run=delete_entry)
    return [parser]


def delete_entry(args: argparse.Namespace) -> int:
    with open_diary(args) as diary:
        entry, _ = diary.entry(args.id)  # an unknown id: one line, nothing touched
        if not args.yes:
            if not sys.stdin.isatty():
                raise DiaryError(f"give --yes to delete entry {entry.id} without asking")
            if not _confirmed(entry):
                print(f"entry {entry.id} kept", file=sys.stderr)
                return 1
        diary.delete(entry.id)
    print(f"entry {entry.id} deleted, with its utterances and kept audio", file=sys.stderr)
    return 0


def _confirmed(entry: Entry) -> bool:
    when = datetime.fromtimestamp(entry.started_at).strftime("%Y-%m-%d %H:%M")
    print(f"delete entry {entry.id} ({when}, {entry.words} words)? [y/N] ", end="",
          file=sys.stderr, flush=True)  # fmt: skip
    return sys.stdin.readline().strip().lower() in ("y", "yes")
