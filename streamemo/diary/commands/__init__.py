"""``streamemo diary ...``: one module per command, each with ``add(actions)`` that
registers its parser and sets ``run``; every command takes ``--db``."""

from __future__ import annotations

import argparse
import os
import sys
from importlib import import_module

from streamemo.diary.store import default_path

# modules of this package, in the order of --help
COMMANDS = (
    "record",
    "listing",
    "summary",
    "plot",
    "search",
    "serve",
    "export",
    "delete",
    "reanalyse",
)


def add_parser(sub: argparse._SubParsersAction) -> None:
    diary = sub.add_parser(
        "diary",
        help="the voice diary: dictate entries and look back at how you felt",
        description="The voice diary: each dictation (diary record, or any run or serve "
        "stream with --sink diary) is an entry, kept in SQLite on this machine (in your "
        "data folder unless --db says otherwise).",
    )
    actions = diary.add_subparsers(dest="diary_command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        for parser in import_module(f"{__name__}.{name}").add(actions):
            parser.add_argument(
                "--db", metavar="PATH", help=f"the diary (default: {default_path()})"
            )


def diary_command(args: argparse.Namespace) -> int:
    try:
        return args.diary_run(args)
    except BrokenPipeError:  # `diary show 3 | head`: the reader has all it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error
        return 0
