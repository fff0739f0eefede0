"""``streamemo diary plot --out FILE.png|FILE.svg``: how you felt, as a picture."""

from __future__ import annotations

import argparse
from datetime import datetime
from pathlib import Path

from streamemo.diary.commands.listing import open_diary, span
from streamemo.diary.store import DiaryError

FORMATS = (".png", ".svg")


def add(actions: argparse._SubParsersAction) -> list[argparse.ArgumentParser]:
    plot = actions.add_parser(
        "plot",
        help="a picture of how you felt: emotion shares per day and the mood's trend",
        description="Draw the share of each emotion (by speaking time) per day, with the "
        "trend of the mood below it (a rolling mean, pleasant up). Spans longer than three "
        "months are drawn per week, longer than two years per month.",
        epilog="With no entry in the span nothing is written: one line, exit 2.",
    )
    plot.add_argument(
        "--out", required=True, metavar="FILE", help="the picture: FILE.png or FILE.svg"
    )
    plot.add_argument("--since", metavar="DATE", help="from this day on (YYYY-MM-DD)")
    plot.add_argument("--until", metavar="DATE", help="up to this day, itself included")
    plot.set_defaults(diary_run=plot_diary)
    return [plot]


def checked_out(text: str) -> Path:
    """--out, checked before the diary opens or anything is drawn."""
    path = Path(text).expanduser()
    if path.is_dir():
        raise DiaryError(f"--out {text!r} is a folder: name the picture's file")
    if path.suffix.lower() not in FORMATS:
        raise DiaryError(f"--out {text!r}: the file must end in .png or .svg")
    if not path.parent.is_dir():
        raise DiaryError(
            f"--out {text!r}: the folder {str(path.parent)!r} does not exist; create it first"
        )
    return path


def plot_diary(args: argparse.Namespace) -> int:
    out = checked_out(args.out)
    since, until = span(args)
    from streamemo.diary.charts import chart_periods, write

    with open_diary(args) as diary:
        by, found = chart_periods(diary, since, until)
        where = str(diary.path)
    if not found:
        between = _between(args)
        raise DiaryError(f"nothing to plot: no diary entries{between} in {where!r}")
    write(found, by, out)
    first = datetime.fromtimestamp(found[0].start).date()
    last = datetime.fromtimestamp(found[-1].end - 1).date()
    count = f"{len(found)} {by}{'' if len(found) == 1 else 's'}"
    print(f"wrote {out}: {count} with entries, {first} to {last}")
    return 0


def _between(args: argparse.Namespace) -> str:
    if args.since and args.until:
        return f" from {args.since} to {args.until}"
    if args.since:
        return f" since {args.since}"
    return f" until {args.until}" if args.until else ""
