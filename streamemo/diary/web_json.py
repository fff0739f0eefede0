"""The diary as JSON, for the dashboard's diary view (``streamemo diary serve``): read
only, built from the store and ``periods``; days and times are this machine's local ones,
as in ``diary list``, so the page and the command line agree."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from streamemo.diary.charts import WINDOW, chart_periods, labels_of, rolling_mood
from streamemo.diary.periods import BY, periods
from streamemo.diary.store import Diary, DiaryError, Entry


def overview(diary: Diary) -> dict[str, Any]:
    first, last, count = diary._db.execute(
        "SELECT min(started_at), max(started_at), count(*) FROM entries"
    ).fetchone()
    return {
        "name": diary.path.name,
        "entries": count,
        "first": _day(first) if first is not None else None,
        "last": _day(last) if last is not None else None,
    }


def days(diary: Diary, since: float | None, until: float | None) -> dict[str, Any]:
    """Entries grouped by the local day they started, newest day first (and, within a
    day, the latest entry first)."""
    grouped: dict[str, list[dict[str, Any]]] = {}
    for entry in reversed(diary.entries(since, until)):
        grouped.setdefault(_day(entry.started_at), []).append(entry_json(entry))
    return {"days": [{"day": day, "entries": entries} for day, entries in grouped.items()]}


def chart(diary: Diary, by: str, since: float | None, until: float | None) -> dict[str, Any]:
    """The periods for the mood chart, with the same rolling mean as ``diary plot``;
    ``by="auto"`` picks the plot's grain for the span."""
    if by == "auto":
        by, found = chart_periods(diary, since, until)
    elif by in BY:
        found = periods(diary, by, since, until)
    else:
        raise DiaryError(f"by={by!r}: give day, week, month or auto")
    trend = rolling_mood(found, by)
    return {
        "by": by,
        "window": WINDOW[by][1],
        "labels": labels_of(found),
        "periods": [
            {**asdict(period), "trend": value} for period, value in zip(found, trend, strict=True)
        ],
    }


def entry(diary: Diary, entry_id: int) -> dict[str, Any]:
    """One entry and its utterance events, whole (text, voice and fused emotion)."""
    found, events = diary.entry(entry_id)
    return {"entry": entry_json(found), "utterances": events}


def entry_json(entry: Entry) -> dict[str, Any]:
    started = datetime.fromtimestamp(entry.started_at)
    return {
        **asdict(entry),
        "day": started.date().isoformat(),
        "time": started.strftime("%H:%M"),
        "finished": entry.ended_at is not None,
    }


def _day(when: float) -> str:
    return datetime.fromtimestamp(when).date().isoformat()
