"""``streamemo diary list|show``: the entries, and one entry's utterances."""

from __future__ import annotations

import argparse
from datetime import datetime, timedelta

from streamemo.diary.store import Diary, DiaryError, Entry, default_path
from streamemo.scores import disagree, sure, top_label


def add(actions: argparse._SubParsersAction) -> list[argparse.ArgumentParser]:
    listing = actions.add_parser("list", help="the entries, one line each")
    listing.add_argument("--since", metavar="DATE", help="from this day on (YYYY-MM-DD)")
    listing.add_argument("--until", metavar="DATE", help="up to this day, itself included")
    listing.set_defaults(diary_run=list_entries)
    show = actions.add_parser("show", help="an entry's utterances with their emotions")
    show.add_argument("id", type=int, metavar="ID", help="the entry's number (see diary list)")
    show.set_defaults(diary_run=show_entry)
    return [listing, show]


def open_diary(args: argparse.Namespace) -> Diary:
    """The diary that --db names (or the default one), which must exist already."""
    return Diary(args.db or default_path(), create=False)


def span(args: argparse.Namespace) -> tuple[float | None, float | None]:
    """--since and --until as Unix times (either may be None); checked before opening."""
    since = day(args.since, "--since") if args.since else None
    until = day(args.until, "--until", after=True) if args.until else None
    return since, until


def list_entries(args: argparse.Namespace) -> int:
    since, until = span(args)
    with open_diary(args) as diary:
        for entry in diary.entries(since, until):
            print(entry_line(entry))
    return 0


def show_entry(args: argparse.Namespace) -> int:
    with open_diary(args) as diary:
        entry, events = diary.entry(args.id)
    print(entry_line(entry))
    for event in events:
        print(_utterance(event))
    return 0


def day(text: str, option: str, *, after: bool = False) -> float:
    """Local midnight of a YYYY-MM-DD day (``after``: of the day after it), as Unix time;
    a calendar day, so a day of a clock change is 23 or 25 hours, not 24."""
    try:
        date = datetime.strptime(text, "%Y-%m-%d")
    except ValueError:
        raise DiaryError(f"{option} {text!r} is not a date: write YYYY-MM-DD") from None
    return (date + timedelta(days=1) if after else date).timestamp()


def entry_line(entry: Entry) -> str:
    when = datetime.fromtimestamp(entry.started_at).strftime("%Y-%m-%d %H:%M")
    minutes, seconds = divmod(round(entry.spoken_s), 60)
    state = "" if entry.ended_at is not None else "  (unfinished)"
    return (
        f"{entry.id:>5}  {when}  {minutes:>3}:{seconds:02d} spoken  {entry.words:>5} words  "
        f"{entry.emotion or '-'}{state}"
    )


def reading(result: dict | None) -> str:
    """A stored result as the console writes it: ``label score``, ``unsure`` under
    ``UNSURE_BELOW`` confidence (an entry from before results carried a confidence gets
    one from its scores), or ``-`` for none."""
    if not result or not result.get("scores"):
        return "-"
    if not sure(result):
        return "unsure"
    label = top_label(result)
    score = result.get("score") if result.get("label") else result["scores"][label]
    return f"{label} {float(score or 0.0):.2f}"


def _utterance(event: dict) -> str:
    text, voice = event.get("text_emotion"), event.get("audio_emotion")
    sides = f"text {reading(text)}" + (" ≠ " if disagree(text, voice) else "  ")
    return (
        f"  [{event['start']:7.2f} → {event['end']:7.2f}]  {reading(event.get('emotion'))}  "
        f"{sides}voice {reading(voice)}  {(event.get('text') or '')!r}"
    )
