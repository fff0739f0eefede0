"""The diary by day, ISO week or month: how much was said and how it felt.

An entry counts in the period (local calendar) in which it started; emotion shares are by
speaking time (utterance end - start). SQLite adds up each entry's utterances per label,
with its highest and lowest mood (one grouped query whatever the diary's size, reading
the covering index ``utterances_totals`` rather than the rows with their events); Python
sorts those rows into periods, then one index seek per period fetches the words of each
extreme moment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from streamemo.diary.store import Diary

BY = ("day", "week", "month")


@dataclass(frozen=True, slots=True)
class Moment:
    """One utterance, the most positive or negative of a period."""

    entry_id: int
    at: float  # Unix time of the utterance's start (entry start + start)
    text: str
    label: str | None
    mood: float


@dataclass(frozen=True, slots=True)
class Period:
    key: str  # "2026-12-01" (day), "2026-W49" (ISO week), "2026-12" (month)
    start: float  # Unix time of the period's first local midnight
    end: float  # Unix time of the next period's first local midnight
    entries: int
    utterances: int
    words: int
    spoken_s: float
    emotion: str | None  # the label with the most speaking time
    shares: dict[str, float]  # label -> share of labelled speaking time, largest first
    mood: float | None  # speaking-time-weighted mean of the utterances' mood, [-1, 1]
    most_positive: Moment | None  # None when nothing said was above neutral (mood > 0)
    most_negative: Moment | None  # None when nothing was below it (mood < 0)


def periods(
    diary: Diary, by: str = "day", since: float | None = None, until: float | None = None
) -> list[Period]:
    """The periods that have entries starting in ``[since, until)``, oldest first."""
    if by not in BY:
        raise ValueError(f"by must be one of {BY}, not {by!r}")
    db = diary._db
    span = (
        since if since is not None else float("-inf"),
        until if until is not None else float("inf"),
    )
    buckets: dict[str, _Bucket] = {}
    of_entry: dict[int, _Bucket] = {}
    for entry_id, started_at in db.execute(
        "SELECT id, started_at FROM entries WHERE started_at >= ? AND started_at < ?"
        " ORDER BY started_at, id",
        span,
    ):
        key, first = _period(datetime.fromtimestamp(started_at).date(), by)
        bucket = buckets.get(key) or buckets.setdefault(key, _Bucket(key, first, by))
        bucket.entries += 1
        of_entry[entry_id] = bucket
    # per entry and label, from the covering index utterances_totals in its own order
    for entry_id, label, *totals in db.execute(
        "SELECT u.entry_id, u.label, count(*), sum(u.words), sum(u.end - u.start),"
        " sum(u.mood * (u.end - u.start)),"
        " sum(CASE WHEN u.mood IS NULL THEN 0 ELSE u.end - u.start END), max(u.mood), min(u.mood)"
        " FROM utterances u WHERE u.entry_id IN"
        " (SELECT id FROM entries WHERE started_at >= ? AND started_at < ?)"
        " GROUP BY u.entry_id, u.label",
        span,
    ):
        of_entry[entry_id].add(entry_id, label, *totals)
    for bucket in buckets.values():
        bucket.find_moments(db)
    return [bucket.period() for bucket in buckets.values()]


def _period(day: date, by: str) -> tuple[str, date]:
    """A day's period: its key and its first day."""
    if by == "day":
        return day.isoformat(), day
    if by == "week":
        year, week, weekday = day.isocalendar()
        return f"{year}-W{week:02d}", day - timedelta(days=weekday - 1)
    return f"{day.year}-{day.month:02d}", day.replace(day=1)


def _next(first: date, by: str) -> date:
    if by == "day":
        return first + timedelta(days=1)
    if by == "week":
        return first + timedelta(days=7)
    return (first.replace(day=28) + timedelta(days=4)).replace(day=1)


def _midnight(day: date) -> float:
    """Local midnight of a day as Unix time (a day of a clock change: 23 or 25 hours)."""
    return datetime(day.year, day.month, day.day).timestamp()


class _Bucket:
    """One period's running totals, and where its extreme moods were said."""

    def __init__(self, key: str, first: date, by: str):
        self.key, self.start, self.end = key, _midnight(first), _midnight(_next(first, by))
        self.entries = self.utterances = self.words = 0
        self.spoken = self.weighted = self.weight = 0.0
        self.seconds: dict[str, float] = {}
        # +1: the highest mood above 0, -1: the lowest below; with each (entry, label) of it
        self.extreme: dict[int, tuple[float, list[tuple[int, str | None]]]] = {}
        self.moments: dict[int, Moment] = {}

    def add(
        self,
        entry_id: int,
        label: str | None,
        n: int,
        words: int | None,
        spoken: float | None,
        weighted: float | None,
        weight: float | None,
        top: float | None,
        bottom: float | None,
    ) -> None:
        self.utterances += n
        self.words += words or 0
        self.spoken += spoken or 0.0
        self.weighted += weighted or 0.0
        self.weight += weight or 0.0
        if label is not None:
            self.seconds[label] = self.seconds.get(label, 0.0) + (spoken or 0.0)
        for sign, value in ((1, top), (-1, bottom)):
            if value is None or sign * value <= 0:
                continue
            best = self.extreme.get(sign)
            if best is None or sign * value > sign * best[0]:
                self.extreme[sign] = (value, [(entry_id, label)])
            elif value == best[0]:
                best[1].append((entry_id, label))

    def find_moments(self, db: Any) -> None:
        """The utterances of the extreme moods (an index seek each); of a tie, the earliest."""
        for sign, (value, places) in self.extreme.items():
            for entry_id, label in places:
                start, text, started_at = db.execute(
                    "SELECT u.start, u.text, e.started_at FROM utterances u"
                    " JOIN entries e ON e.id = u.entry_id"
                    " WHERE u.entry_id = ? AND u.label IS ? AND u.mood = ? ORDER BY u.start",
                    (entry_id, label, value),
                ).fetchone()
                moment = Moment(entry_id, started_at + start, text or "", label, value)
                best = self.moments.get(sign)
                if best is None or moment.at < best.at:
                    self.moments[sign] = moment

    def period(self) -> Period:
        ranked = sorted(self.seconds.items(), key=lambda item: (-item[1], item[0]))
        total = sum(seconds for _, seconds in ranked)
        shares = {label: seconds / total for label, seconds in ranked} if total > 0 else {}
        return Period(
            key=self.key,
            start=self.start,
            end=self.end,
            entries=self.entries,
            utterances=self.utterances,
            words=self.words,
            spoken_s=round(self.spoken, 2),
            emotion=ranked[0][0] if ranked else None,
            shares=shares,
            mood=round(self.weighted / self.weight, 4) if self.weight > 0 else None,
            most_positive=self.moments.get(1),
            most_negative=self.moments.get(-1),
        )
