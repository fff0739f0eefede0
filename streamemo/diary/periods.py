"""The diary by day, ISO week or month: how much was said and how it felt.

An entry counts in the period (local calendar) in which it started; emotion shares are by
speaking time (utterance end - start). SQLite adds up each entry's utterances per label
and finds each entry's extreme moments (grouped queries, a few whatever the diary's size);
Python then only sorts a row per entry into its period.
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
    where = "e.started_at >= ? AND e.started_at < ?"
    span = (
        since if since is not None else float("-inf"),
        until if until is not None else float("inf"),
    )
    buckets: dict[str, _Bucket] = {}
    of_entry: dict[int, _Bucket] = {}
    for entry_id, started_at in db.execute(
        f"SELECT e.id, e.started_at FROM entries e WHERE {where} ORDER BY e.started_at, e.id",
        span,
    ):
        key, first = _period(datetime.fromtimestamp(started_at).date(), by)
        bucket = buckets.get(key) or buckets.setdefault(key, _Bucket(key, first, by))
        bucket.entries += 1
        of_entry[entry_id] = bucket
    for entry_id, label, n, words, spoken, weighted, weight in db.execute(
        "SELECT u.entry_id, u.label, count(*), sum(u.words), sum(u.end - u.start),"
        " sum(u.mood * (u.end - u.start)), sum(CASE WHEN u.mood IS NULL THEN 0"
        " ELSE u.end - u.start END)"
        f" FROM utterances u JOIN entries e ON e.id = u.entry_id WHERE {where}"
        " GROUP BY u.entry_id, u.label",
        span,
    ):
        of_entry[entry_id].add(label, n, words, spoken, weighted or 0.0, weight)
    for name, pick in (("most_positive", "max"), ("most_negative", "min")):
        sign = 1 if pick == "max" else -1
        # bare columns: with one min() or max(), SQLite takes them from that row
        for entry_id, value, started_at, start, text, label in db.execute(
            f"SELECT u.entry_id, {pick}(u.mood), e.started_at, u.start, u.text, u.label"
            f" FROM utterances u JOIN entries e ON e.id = u.entry_id WHERE {where}"
            f" AND u.mood {'>' if sign > 0 else '<'} 0 GROUP BY u.entry_id",
            span,
        ):
            moment = Moment(entry_id, started_at + start, text or "", label, value)
            of_entry[entry_id].offer(name, moment, sign)
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
    """One period's running totals."""

    def __init__(self, key: str, first: date, by: str):
        self.key, self.start, self.end = key, _midnight(first), _midnight(_next(first, by))
        self.entries = self.utterances = self.words = 0
        self.spoken = self.weighted = self.weight = 0.0
        self.seconds: dict[str, float] = {}
        self.moments: dict[str, Moment] = {}

    def add(self, label: Any, n: int, words: int, spoken: float, weighted: float, weight: float):
        self.utterances += n
        self.words += words or 0
        self.spoken += spoken or 0.0
        self.weighted += weighted
        self.weight += weight or 0.0
        if label is not None:
            self.seconds[label] = self.seconds.get(label, 0.0) + (spoken or 0.0)

    def offer(self, name: str, moment: Moment, sign: int) -> None:
        """Keep the more extreme moment; on a tie, the earlier one."""
        best = self.moments.get(name)
        if best is None or (sign * moment.mood, -moment.at) > (sign * best.mood, -best.at):
            self.moments[name] = moment

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
            most_positive=self.moments.get("most_positive"),
            most_negative=self.moments.get("most_negative"),
        )
