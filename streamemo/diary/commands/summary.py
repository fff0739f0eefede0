"""``streamemo diary summary``: how each day, week or month felt, in words or as JSON.

Per period (by default the ISO week, Monday first: a day is what diary list shows, a
month over years is a long look back): its emotion (the fused label with the most speaking
time), each emotion's share of the labelled speaking time, the mood (-1 unpleasant ... +1
pleasant, weighted by speaking time), the most positive and most negative moments, the
words and the time spoken. An entry counts in the period in which it started.

``--json`` prints one document, the stable machine form::

    {"format": "streamemo-diary-summary", "version": 1,
     "by": "day" | "week" | "month", "since": "YYYY-MM-DD" | null, "until": ... | null,
     "periods": [                       # oldest first, only periods with entries
       {"key": "2026-12-01" | "2026-W49" | "2026-12",
        "start": "2026-11-30T00:00:00+01:00",   # local midnight (ISO 8601 with offset)
        "end": "2026-12-07T00:00:00+01:00",     # the next period's start
        "entries": 3, "utterances": 41, "words": 512, "spoken_s": 203.5,
        "emotion": "joy" | null,
        "shares": {"joy": 0.52, "neutral": 0.31, ...},   # 0..1, sum 1, largest first
        "mood": 0.27 | null,                             # -1..1
        "most_positive": {"entry_id": 12, "at": "2026-12-01T21:04:05+01:00",
                          "text": "...", "label": "joy", "mood": 0.91} | null,
        "most_negative": {...} | null}]}

``version`` changes only when a key changes meaning or goes; keys may be added.
"""

from __future__ import annotations

import argparse
import json
from datetime import datetime
from typing import Any

from streamemo.diary.commands.listing import open_diary, span
from streamemo.diary.periods import Moment, Period, periods

FORMAT, VERSION = "streamemo-diary-summary", 1


def add(actions: argparse._SubParsersAction) -> list[argparse.ArgumentParser]:
    parser = actions.add_parser(
        "summary",
        help="how each week (or day, or month) felt: emotions, mood, moments, words",
        description=__doc__.split("\n\n")[1],
        epilog="--json keys: format, version, by, since, until, periods[]: key, start, end, "
        "entries, utterances, words, spoken_s, emotion, shares (0..1), mood (-1..1), "
        "most_positive / most_negative: {entry_id, at, text, label, mood} or null; times "
        "are local ISO 8601 with their offset. See the module streamemo.diary.commands.summary.",
    )
    by = parser.add_mutually_exclusive_group()
    for name in ("day", "week", "month"):
        by.add_argument(
            f"--{name}",
            dest="by",
            action="store_const",
            const=name,
            help=f"one block per {'ISO week (the default)' if name == 'week' else name}",
        )
    parser.set_defaults(by="week", diary_run=summary)
    parser.add_argument("--since", metavar="DATE", help="entries from this day on (YYYY-MM-DD)")
    parser.add_argument("--until", metavar="DATE", help="up to this day, itself included")
    parser.add_argument("--json", action="store_true", help="one JSON document (its keys below)")
    return [parser]


def summary(args: argparse.Namespace) -> int:
    since, until = span(args)
    with open_diary(args) as diary:
        found = periods(diary, args.by, since, until)
    if args.json:
        print(json.dumps(document(found, args.by, args.since, args.until), ensure_ascii=False))
        return 0
    if not found:
        print("no entries" + (" in that span" if args.since or args.until else " yet"))
    for period in found:
        print("\n".join(lines(period, args.by)))
    return 0


def document(found: list[Period], by: str, since: str | None, until: str | None) -> dict:
    return {
        "format": FORMAT,
        "version": VERSION,
        "by": by,
        "since": since,
        "until": until,
        "periods": [_period(p) for p in found],
    }


def _period(p: Period) -> dict[str, Any]:
    return {
        "key": p.key,
        "start": _iso(p.start),
        "end": _iso(p.end),
        "entries": p.entries,
        "utterances": p.utterances,
        "words": p.words,
        "spoken_s": p.spoken_s,
        "emotion": p.emotion,
        "shares": {label: round(share, 4) for label, share in p.shares.items()},
        "mood": p.mood,
        "most_positive": _moment(p.most_positive),
        "most_negative": _moment(p.most_negative),
    }


def _moment(m: Moment | None) -> dict[str, Any] | None:
    if m is None:
        return None
    return {"entry_id": m.entry_id, "at": _iso(m.at), "text": m.text, "label": m.label,
            "mood": m.mood}  # fmt: skip


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t).astimezone().isoformat(timespec="seconds")


def lines(p: Period, by: str) -> list[str]:
    """A period for people: a heading, then its feeling, its shares and its moments."""
    first, last = datetime.fromtimestamp(p.start), datetime.fromtimestamp(p.end - 1)
    named = {"day": f"{first:%A}", "month": f"{first:%B %Y}"}
    head = f"{p.key}  {named.get(by) or f'{first:%a %d %b} - {last:%a %d %b %Y}'}"
    entries = f"{p.entries} entr{'y' if p.entries == 1 else 'ies'}"
    out = [f"{head}   {entries}, {p.words} words, {_duration(p.spoken_s)} spoken"]
    if p.emotion is None:
        out.append("  no emotion recorded")
    else:
        mood = "-" if p.mood is None else f"{p.mood:+.2f}"
        out.append(f"  mostly {p.emotion}, mood {mood} (-1 unpleasant .. +1 pleasant)")
        out.append("  " + "  ".join(f"{k} {round(v * 100)}%" for k, v in p.shares.items()))
    for name, m in (("most positive", p.most_positive), ("most negative", p.most_negative)):
        if m is not None:
            out.append(f"  {name}: {datetime.fromtimestamp(m.at):%Y-%m-%d %H:%M}  {_quote(m)}")
    return [*out, ""]


def _quote(m: Moment, width: int = 70) -> str:
    text = " ".join(m.text.split())
    text = text if len(text) <= width else text[: width - 1].rstrip() + "…"
    return f'"{text}" ({m.label}, {m.mood:+.2f})'


def _duration(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
