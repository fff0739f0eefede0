"""streamemo diary summary through the real CLI, on a diary written with the store API, in
Europe/Berlin (the child's TZ) across the clock change of 29 March 2026."""

import hashlib
import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from streamemo.diary.store import Diary
from tests.conftest import run_cli

BERLIN = {"TZ": "Europe/Berlin"}


def _at(text: str) -> float:
    local = datetime.strptime(text, "%Y-%m-%d %H:%M")
    return local.replace(tzinfo=ZoneInfo("Europe/Berlin")).timestamp()


def _utterance(uid, start, seconds, scores, text):
    label = max(scores, key=scores.__getitem__)
    emotion = {"label": label, "score": scores[label], "scores": scores}
    return {"id": uid, "start": start, "end": start + seconds, "text": text, "emotion": emotion}


@pytest.fixture
def diary_path(tmp_path):
    path = tmp_path / "diary.db"
    with Diary(path) as diary:
        saturday = diary.begin_entry("mic", _at("2026-03-28 21:00"))  # ISO week 13
        for u in [
            _utterance(1, 0.0, 6.0, {"joy": 0.8, "neutral": 0.2}, "a lovely walk by the lake"),
            _utterance(2, 7.0, 2.0, {"sadness": 0.9, "neutral": 0.1}, "but I miss her"),
        ]:
            diary.add_utterance(saturday, u)
        monday = diary.begin_entry("mic", _at("2026-03-30 08:00"))  # week 14, after the change
        for u in [
            _utterance(1, 1.0, 3.0, {"anger": 0.7, "neutral": 0.3}, "the train was late again"),
            _utterance(2, 5.0, 1.0, {"neutral": 1.0}, "fine"),
        ]:
            diary.add_utterance(monday, u)
    return path


def test_json_is_one_document_with_every_period_as_stored(diary_path):
    got = run_cli("diary", "summary", "--db", str(diary_path), "--json", env=BERLIN)
    assert got.returncode == 0, got.stderr
    doc = json.loads(got.stdout)
    assert (doc["format"], doc["version"], doc["by"]) == ("streamemo-diary-summary", 1, "week")
    assert (doc["since"], doc["until"]) == (None, None)
    w13, w14 = doc["periods"]
    assert (w13["key"], w13["start"], w13["end"]) == (
        "2026-W13", "2026-03-23T00:00:00+01:00", "2026-03-30T00:00:00+02:00"
    )  # fmt: skip
    assert (w13["entries"], w13["utterances"], w13["words"], w13["spoken_s"]) == (1, 2, 10, 8.0)
    assert w13["emotion"] == "joy" and w13["shares"] == {"joy": 0.75, "sadness": 0.25}
    # mood by speaking time: (6 s x 0.8 + 2 s x -0.9) / 8 s
    assert w13["mood"] == pytest.approx((6 * 0.8 - 2 * 0.9) / 8, abs=1e-4)
    assert w13["most_positive"] == {
        "entry_id": 1, "at": "2026-03-28T21:00:00+01:00", "text": "a lovely walk by the lake",
        "label": "joy", "mood": 0.8,
    }  # fmt: skip
    assert w13["most_negative"]["at"] == "2026-03-28T21:00:07+01:00"
    assert w13["most_negative"]["text"] == "but I miss her"
    assert w14["start"] == "2026-03-30T00:00:00+02:00"
    assert w14["shares"] == {"anger": 0.75, "neutral": 0.25} and w14["most_positive"] is None
    assert w14["most_negative"]["at"] == "2026-03-30T08:00:01+02:00"


def test_by_day_and_month_and_a_span(diary_path):
    days = run_cli("diary", "summary", "--db", str(diary_path), "--day", "--json", env=BERLIN)
    assert [p["key"] for p in json.loads(days.stdout)["periods"]] == ["2026-03-28", "2026-03-30"]
    month = run_cli(
        "diary", "summary", "--db", str(diary_path), "--month", "--json",
        "--since", "2026-03-29", "--until", "2026-03-30", env=BERLIN,
    )  # fmt: skip
    doc = json.loads(month.stdout)
    assert (doc["by"], doc["since"], doc["until"]) == ("month", "2026-03-29", "2026-03-30")
    (march,) = doc["periods"]
    assert (march["key"], march["entries"], march["words"]) == ("2026-03", 1, 6)


def test_the_human_form_names_the_feeling_the_shares_and_the_moments(diary_path):
    got = run_cli("diary", "summary", "--db", str(diary_path), env=BERLIN)
    assert got.returncode == 0 and got.stderr == ""
    text = got.stdout
    assert "\x1b[" not in text  # no colour when it is not a terminal
    first = text.split("\n\n")[0].splitlines()
    assert first[0].startswith("2026-W13  Mon 23 Mar - Sun 29 Mar 2026")
    assert "1 entry, 10 words, 0:08 spoken" in first[0]
    assert first[1].startswith("  mostly joy, mood +0.38")
    assert first[2] == "  joy 75%  sadness 25%"
    assert first[3] == '  most positive: 2026-03-28 21:00  "a lovely walk by the lake" (joy, +0.80)'
    assert first[4] == '  most negative: 2026-03-28 21:00  "but I miss her" (sadness, -0.90)'
    assert "most positive" not in text.split("\n\n")[1]  # week 14 had nothing pleasant


def test_an_empty_diary_says_so(tmp_path):
    Diary(tmp_path / "d.db").close()
    got = run_cli("diary", "summary", "--db", str(tmp_path / "d.db"))
    assert (got.returncode, got.stdout) == (0, "no entries yet\n")
    got = run_cli("diary", "summary", "--db", str(tmp_path / "d.db"), "--json", "--month")
    assert json.loads(got.stdout)["periods"] == []


@pytest.mark.parametrize(
    "args, message",
    [
        (["--since", "2026-13-01"], "--since '2026-13-01' is not a date: write YYYY-MM-DD"),
        (["--until", "yesterday"], "--until 'yesterday' is not a date: write YYYY-MM-DD"),
    ],
)
def test_bad_dates_are_one_line_and_exit_2_with_the_file_untouched(diary_path, args, message):
    before = hashlib.sha256(diary_path.read_bytes()).hexdigest()
    got = run_cli("diary", "summary", "--db", str(diary_path), "--json", *args)
    assert got.returncode == 2 and got.stdout == ""
    assert got.stderr == f"streamemo: error: {message}\n"
    assert hashlib.sha256(diary_path.read_bytes()).hexdigest() == before
