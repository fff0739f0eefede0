"""The summary ``diary record`` prints at the end: the entry's line, the share of each
emotion by speaking time, and its most positive and most negative utterances (a moment
whose fused emotion is unsure says ``unsure``, as ``diary show`` does)."""

from __future__ import annotations

from typing import Any

from streamemo.diary.commands.listing import entry_line, reading
from streamemo.diary.mood import mood
from streamemo.diary.store import Entry


def shares(events: list[dict[str, Any]]) -> dict[str, float]:
    """Fused label -> its share of the labelled speaking time, largest first."""
    seconds: dict[str, float] = {}
    for event in events:
        label = (event.get("emotion") or {}).get("label")
        if label is not None:
            seconds[label] = seconds.get(label, 0.0) + event["end"] - event["start"]
    total = sum(seconds.values())
    if total <= 0:
        return {}
    ranked = sorted(seconds.items(), key=lambda item: (-item[1], item[0]))
    return {label: spoken / total for label, spoken in ranked}


def extremes(events: list[dict[str, Any]]) -> tuple[dict | None, dict | None]:
    """The utterance of the highest mood above neutral and of the lowest below it (the
    earlier one on a tie); None where nothing was on that side."""
    scored = [(m, e) for e in events if (m := mood(e.get("emotion"))) is not None]
    above = [(m, e) for m, e in scored if m > 0]
    below = [(m, e) for m, e in scored if m < 0]
    best = max(above, key=lambda me: (me[0], -me[1]["start"]))[1] if above else None
    worst = min(below, key=lambda me: (me[0], me[1]["start"]))[1] if below else None
    return best, worst


def summary_lines(entry: Entry, events: list[dict[str, Any]], show: str) -> list[str]:
    """The entry's summary; ``show``: the command that shows it whole."""
    share = shares(events)
    best, worst = extremes(events)
    return [
        entry_line(entry),
        "  emotions by speaking time: "
        + (", ".join(f"{label} {part:.0%}" for label, part in share.items()) or "-"),
        f"  most positive: {_moment(best, 'nothing above neutral')}",
        f"  most negative: {_moment(worst, 'nothing below neutral')}",
        f"  next: {show}",
    ]


def _moment(event: dict | None, none: str) -> str:
    if event is None:
        return none
    shown = reading(event.get("emotion"))  # "joy 0.70", "unsure" or "-"
    label = shown.rsplit(" ", 1)[0] if shown not in ("unsure", "-") else shown
    return (
        f"[{event['start']:7.2f} → {event['end']:7.2f}]  {label} "
        f"(mood {mood(event.get('emotion')):+.2f})  {(event.get('text') or '')!r}"
    )
