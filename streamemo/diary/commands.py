"""``streamemo diary list|show``: looking back at the entries of the voice diary."""

from __future__ import annotations

import argparse
from datetime import datetime, timedelta

from streamemo.diary.store import Diary, DiaryError, Entry, default_path


def add_parser(sub: argparse._SubParsersAction) -> None:
    diary = sub.add_parser(
        "diary",
        help="the voice diary: list and show its entries (write them with --sink diary)",
        description="The voice diary: every run or serve stream with --sink diary is an "
        "entry (SQLite, in your data folder unless --db says otherwise).",
    )
    actions = diary.add_subparsers(dest="diary_command", required=True)
    listing = actions.add_parser("list", help="the entries, one line each")
    listing.add_argument("--since", metavar="DATE", help="from this day on (YYYY-MM-DD)")
    listing.add_argument("--until", metavar="DATE", help="up to this day, itself included")
    show = actions.add_parser("show", help="an entry's utterances with their emotions")
    show.add_argument("id", type=int, metavar="ID", help="the entry's number (see diary list)")
    for action in (listing, show):
        action.add_argument("--db", metavar="PATH", help=f"the diary (default: {default_path()})")


def diary_command(args: argparse.Namespace) -> int:
    since = _day(args.since, "--since") if getattr(args, "since", None) else None
    until = _day(args.until, "--until", after=True) if getattr(args, "until", None) else None
    with Diary(args.db or default_path(), create=False) as diary:
        if args.diary_command == "list":
            for entry in diary.entries(since, until):
                print(_line(entry))
            return 0
        entry, events = diary.entry(args.id)
        print(_line(entry))
        for event in events:
            print(_utterance(event))
    return 0


def _day(text: str, option: str, *, after: bool = False) -> float:
    """Local midnight of a YYYY-MM-DD day (``after``: of the day after it), as Unix time;
    a calendar day, so a day of a clock change is 23 or 25 hours, not 24."""
    try:
        day = datetime.strptime(text, "%Y-%m-%d")
    except ValueError:
        raise DiaryError(f"{option} {text!r} is not a date: write YYYY-MM-DD") from None
    return (day + timedelta(days=1) if after else day).timestamp()


def _line(entry: Entry) -> str:
    when = datetime.fromtimestamp(entry.started_at).strftime("%Y-%m-%d %H:%M")
    minutes, seconds = divmod(round(entry.spoken_s), 60)
    state = "" if entry.ended_at is not None else "  (unfinished)"
    return (
        f"{entry.id:>5}  {when}  {minutes:>3}:{seconds:02d} spoken  {entry.words:>5} words  "
        f"{entry.emotion or '-'}{state}"
    )


def _top(result: dict | None) -> str:
    if not result or not result.get("scores"):
        return "-"
    label = max(result["scores"], key=result["scores"].get)
    return f"{label} {result['scores'][label]:.2f}"


def _utterance(event: dict) -> str:
    fused = event.get("emotion") or {}
    mood = f"{fused['label']} {fused['score']:.2f}" if fused.get("label") else "-"
    return (
        f"  [{event['start']:7.2f} → {event['end']:7.2f}]  {mood}  "
        f"text {_top(event.get('text_emotion'))}  voice {_top(event.get('audio_emotion'))}  "
        f"{(event.get('text') or '')!r}"
    )
