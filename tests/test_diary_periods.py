"""The diary by day, ISO week and month (streamemo.diary.periods), on a real SQLite file,
in a time zone with a clock change (Europe/Berlin)."""

import time
from datetime import datetime

import pytest

from streamemo.diary.periods import Moment, periods
from streamemo.diary.store import Diary


@pytest.fixture
def berlin(monkeypatch):
    monkeypatch.setenv("TZ", "Europe/Berlin")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def _at(text: str) -> float:
    """A local wall-clock time (in the test's time zone) as Unix time."""
    return datetime.strptime(text, "%Y-%m-%d %H:%M").timestamp()


def _event(uid: int, start: float, seconds: float, label: str | None, text: str) -> dict:
    emotion = {"label": label, "score": 1.0, "scores": {label: 1.0}} if label else None
    return {"id": uid, "start": start, "end": start + seconds, "text": text, "emotion": emotion}


def _diary(path, entries: dict[str, list[tuple[float, str | None, str]]]) -> None:
    """Entries by local start time, each utterance (seconds, label, text) one after another."""
    with Diary(path) as diary:
        for when, utterances in entries.items():
            entry = diary.begin_entry("mic", _at(when))
            start = 0.0
            for uid, (seconds, label, text) in enumerate(utterances):
                diary.add_utterance(entry, _event(uid, start, seconds, label, text))
                start += seconds + 1.0
            diary.finish_entry(entry, _at(when) + start)


# Sunday 29 March 2026 has 23 hours in Berlin; Monday 30 March starts ISO week 14;
# 1 April starts a month; Saturday 2 January 2027 is in ISO week 53 of 2026.
ENTRIES = {
    "2026-03-28 23:30": [(2.0, "joy", "late on saturday")],
    "2026-03-29 23:30": [(3.0, "sadness", "the short day")],
    "2026-03-30 00:30": [(4.0, "neutral", "monday morning early")],
    "2026-03-31 23:59": [(1.0, "anger", "end of march")],
    "2026-04-01 00:01": [(5.0, "joy", "april now")],
    "2027-01-02 10:00": [(1.0, "fear", "new year")],
}


def test_entries_fall_in_their_local_calendar_period_across_a_clock_change(tmp_path, berlin):
    _diary(tmp_path / "d.db", ENTRIES)
    with Diary(tmp_path / "d.db", create=False) as diary:
        days = periods(diary, "day")
        weeks = periods(diary, "week")
        months = periods(diary, "month")
    assert [p.key for p in days] == [
        "2026-03-28", "2026-03-29", "2026-03-30", "2026-03-31", "2026-04-01", "2027-01-02"
    ]  # fmt: skip
    short = days[1]
    assert (short.start, short.end) == (_at("2026-03-29 00:00"), _at("2026-03-30 00:00"))
    assert short.end - short.start == 23 * 3600
    assert days[0].end - days[0].start == 24 * 3600
    assert [(p.key, p.entries) for p in weeks] == [
        ("2026-W13", 2),
        ("2026-W14", 3),
        ("2026-W53", 1),
    ]
    assert weeks[0].start == _at("2026-03-23 00:00") and weeks[0].end == _at("2026-03-30 00:00")
    assert weeks[0].end - weeks[0].start == 7 * 24 * 3600 - 3600  # a week with the change
    assert weeks[2].start == _at("2026-12-28 00:00")
    assert [(p.key, p.entries, p.words) for p in months] == [
        ("2026-03", 4, 12), ("2026-04", 1, 2), ("2027-01", 1, 2)
    ]  # fmt: skip
    assert (months[0].start, months[0].end) == (_at("2026-03-01 00:00"), _at("2026-04-01 00:00"))
    assert months[1].end == _at("2026-05-01 00:00")


def test_since_and_until_take_entries_that_started_within(tmp_path, berlin):
    _diary(tmp_path / "d.db", ENTRIES)
    with Diary(tmp_path / "d.db") as diary:
        got = periods(diary, "month", since=_at("2026-03-30 00:00"), until=_at("2026-04-01 00:01"))
    assert [(p.key, p.entries) for p in got] == [("2026-03", 2)]


def test_shares_and_the_emotion_are_by_speaking_time_and_the_mood_is_weighted_by_it(tmp_path):
    # three short sad utterances and one long joyful one: by count sadness, by time joy
    _diary(
        tmp_path / "d.db",
        {
            "2026-06-01 09:00": [(10.0, "joy", "one long happy story"), (1.0, "sadness", "oh")],
            "2026-06-01 20:00": [(1.0, "sadness", "no"), (1.0, "sadness", "sigh")],
            "2026-06-02 08:00": [(7.0, None, "nothing fused here")],
        },
    )
    with Diary(tmp_path / "d.db") as diary:
        first, second = periods(diary)
    assert (first.entries, first.utterances, first.words, first.spoken_s) == (2, 4, 7, 13.0)
    assert first.emotion == "joy"
    assert list(first.shares) == ["joy", "sadness"]  # largest first
    assert first.shares == pytest.approx({"joy": 10 / 13, "sadness": 3 / 13})
    assert sum(first.shares.values()) == pytest.approx(1.0)
    assert first.mood == pytest.approx((10 * 1.0 + 3 * -1.0) / 13, abs=1e-4)  # not -0.5
    # an utterance without a fused emotion is speech and words, but no share and no mood
    assert (second.utterances, second.words, second.spoken_s) == (1, 3, 7.0)
    assert (second.emotion, second.shares, second.mood) == (None, {}, None)
    assert second.most_positive is None and second.most_negative is None


def test_the_most_positive_and_negative_moments_of_a_period(tmp_path):
    start = _at("2026-06-01 09:00")
    with Diary(tmp_path / "d.db") as diary:
        a, b = diary.begin_entry("mic", start), diary.begin_entry("mic", start + 3600)
        scores = [
            (a, 1, 0.0, {"joy": 0.6, "neutral": 0.4}, "quite nice"),
            (a, 2, 5.0, {"anger": 0.95, "neutral": 0.05}, "furious about it"),
            (a, 3, 8.0, {"sadness": 0.5, "neutral": 0.5}, "a bit sad"),
            (b, 1, 2.0, {"joy": 0.9, "neutral": 0.1}, "wonderful news"),
            (b, 2, 9.0, {"anger": 0.95, "neutral": 0.05}, "furious again"),  # a tie: the earlier
        ]
        for entry, uid, at, dist, text in scores:
            label = max(dist, key=dist.__getitem__)
            emotion = {"label": label, "score": dist[label], "scores": dist}
            diary.add_utterance(
                entry, {"id": uid, "start": at, "end": at + 1, "text": text, "emotion": emotion}
            )
        quiet = diary.begin_entry("mic", _at("2026-06-02 09:00"))
        diary.add_utterance(quiet, _event(1, 0.0, 2.0, "neutral", "just facts"))
        day, neutral_day = periods(diary)
    assert day.most_positive == Moment(b, start + 3600 + 2.0, "wonderful news", "joy", 0.9)
    assert day.most_negative == Moment(a, start + 5.0, "furious about it", "anger", -0.95)
    # nothing said above or below neutral: no moment to show, rather than a neutral one
    assert neutral_day.mood == 0.0
    assert neutral_day.most_positive is None and neutral_day.most_negative is None


def test_an_entry_without_utterances_counts_and_an_empty_diary_has_no_periods(tmp_path):
    with Diary(tmp_path / "d.db") as diary:
        assert periods(diary, "week") == []
        diary.begin_entry("mic", _at("2026-06-01 09:00"))
        (only,) = periods(diary)
    assert (only.entries, only.utterances, only.words, only.spoken_s) == (1, 0, 0, 0.0)
    assert (only.emotion, only.shares, only.mood, only.most_positive) == (None, {}, None, None)
    with pytest.raises(ValueError, match="by must be one of"):
        periods(diary, "year")


def test_a_version_2_diary_gains_the_totals_index_and_the_same_periods(tmp_path, monkeypatch):
    from streamemo.diary import schema

    monkeypatch.setattr(schema, "MIGRATIONS", schema.MIGRATIONS[:2])  # as version 2 wrote it
    monkeypatch.setattr(schema, "SCHEMA_VERSION", 2)
    _diary(tmp_path / "d.db", {"2026-06-01 09:00": [(4.0, "joy", "a"), (2.0, "fear", "b c")]})
    with Diary(tmp_path / "d.db") as diary:
        before = periods(diary)
    monkeypatch.undo()
    with Diary(tmp_path / "d.db") as diary:
        assert diary._db.execute("PRAGMA user_version").fetchone()[0] == 3
        plan = " ".join(
            row[-1]
            for row in diary._db.execute(
                "EXPLAIN QUERY PLAN SELECT entry_id, label, sum(end - start), max(mood)"
                " FROM utterances GROUP BY entry_id, label"
            )
        )
        assert "COVERING INDEX utterances_totals" in plan  # the events' rows are not read
        after = periods(diary)
    assert after == before and after[0].shares == pytest.approx({"joy": 4 / 6, "fear": 2 / 6})
