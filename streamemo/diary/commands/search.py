"""``streamemo diary search TEXT``: where something was said, newest first.

Full-text search (SQLite FTS5) over every utterance: each word of TEXT must be there,
stemmed ("walked" finds "walking"), in any order; quotes, ``*``, ``-``, ``:`` and
AND/OR/NOT are words to look for, not query syntax. One line per hit: the entry's number,
the local date and time the utterance began, and the words around the match with the
matched ones in [brackets]. No hit is not an error: a line on stderr says so and the exit
status is 0 (as for an empty ``diary list``); a bad option is exit 2.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime

from streamemo.diary import searching
from streamemo.diary.commands.listing import open_diary
from streamemo.diary.searching import Hit
from streamemo.diary.store import DiaryError


def add(actions: argparse._SubParsersAction) -> list[argparse.ArgumentParser]:
    parser = actions.add_parser(
        "search",
        help="where something was said: entry, date and time, the words around it",
        description=__doc__.split("\n\n")[1],
    )
    parser.add_argument("text", nargs="+", metavar="TEXT", help="the words to look for")
    parser.add_argument(
        "--limit",
        type=int,
        default=50,
        metavar="N",
        help="show the newest N hits (default 50; 0: all of them)",
    )
    parser.set_defaults(diary_run=search)
    return [parser]


def search(args: argparse.Namespace) -> int:
    if args.limit < 0:
        raise DiaryError(f"--limit {args.limit} is below 0: give a count, or 0 for all")
    text = " ".join(args.text)
    with open_diary(args) as diary:
        hits = searching.search(diary, text, None if args.limit == 0 else args.limit + 1)
    shown = hits if args.limit == 0 else hits[: args.limit]
    for hit in shown:
        print(hit_line(hit))
    if not hits:
        print(f"nothing said matches {text!r}", file=sys.stderr)
    elif len(hits) > len(shown):
        print(f"the newest {len(shown)} hits shown: --limit 0 shows all", file=sys.stderr)
    return 0


def hit_line(hit: Hit) -> str:
    when = datetime.fromtimestamp(hit.entry_started_at + hit.start)
    return f"{hit.entry_id:>5}  {when:%Y-%m-%d %H:%M:%S}  {' '.join(hit.snippet.split())}"
