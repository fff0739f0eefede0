"""streamemo diary search through the real CLI: hits with their entry and local time,
stemmed words, query syntax taken as text, no hit, and the limit."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from streamemo.diary.store import Diary
from tests.conftest import run_cli

BERLIN = {"TZ": "Europe/Berlin"}
SAID = [
    ("2026-03-28 21:00", ["We walked along the river", "rain and wind: a grey day"]),
    ("2026-03-30 08:00", ["the river was high", "a note: buy bread", "walking home"]),
]


@pytest.fixture(scope="module")
def diary_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("search") / "diary.db"
    zone = ZoneInfo("Europe/Berlin")
    with Diary(path) as diary:
        for when, texts in SAID:
            started = datetime.strptime(when, "%Y-%m-%d %H:%M").replace(tzinfo=zone)
            entry = diary.begin_entry("mic", started.timestamp())
            for uid, text in enumerate(texts):
                event = {"id": uid, "start": 10.0 * uid + 1.5, "end": 10.0 * uid + 4, "text": text}
                diary.add_utterance(entry, event)
    return path


def _search(path, *args):
    return run_cli("diary", "search", "--db", str(path), *args, env=BERLIN)


def test_hits_name_the_entry_the_local_time_and_the_words_newest_first(diary_path):
    got = _search(diary_path, "river")
    assert (got.returncode, got.stderr) == (0, "")
    assert got.stdout.splitlines() == [
        "    2  2026-03-30 08:00:01  the [river] was high",  # summer time: +02:00
        "    1  2026-03-28 21:00:01  We walked along the [river]",
    ]


def test_words_are_stemmed_and_all_of_them_must_be_there(diary_path):
    got = _search(diary_path, "walk")
    assert [line.split("  ")[-1] for line in got.stdout.splitlines()] == [
        "[walking] home",
        "We [walked] along the river",
    ]
    got = _search(diary_path, "walked", "river")  # two words, without quotes
    assert got.stdout.splitlines() == ["    1  2026-03-28 21:00:01  We [walked] along the [river]"]


@pytest.mark.parametrize("text", ['"', "*", "-", ":", "NEAR(", "(river", '"bread'])
def test_query_syntax_in_the_text_is_searched_for_not_an_error(diary_path, text):
    got = _search(diary_path, text)
    assert got.returncode == 0, got.stderr
    if text in ("(river", '"bread'):  # the word in it is found
        assert len(got.stdout.splitlines()) == (2 if "river" in text else 1)
    else:
        assert got.stdout == ""
        assert got.stderr == f"nothing said matches {text!r}\n"


def test_and_or_not_are_words(diary_path):
    assert _search(diary_path, "AND").stdout.splitlines() == [
        "    1  2026-03-28 21:00:11  rain [and] wind: a grey day"
    ]
    assert _search(diary_path, "river", "OR", "bread").stdout == ""  # every word: no "or"
    assert _search(diary_path, "note:").stdout.splitlines()[0].endswith("a [note]: buy bread")


def test_the_limit_keeps_the_newest_and_says_there_are_more(diary_path):
    got = _search(diary_path, "river", "--limit", "1")
    assert got.stdout.splitlines() == ["    2  2026-03-30 08:00:01  the [river] was high"]
    assert got.stderr == "the newest 1 hits shown: --limit 0 shows all\n"
    assert len(_search(diary_path, "a", "--limit", "0").stdout.splitlines()) == 2


@pytest.mark.parametrize(
    "args, message",
    [
        (["  "], "diary search needs a word to look for: give TEXT"),
        (["river", "--limit", "-1"], "--limit -1 is below 0: give a count, or 0 for all"),
    ],
)
def test_no_word_or_a_bad_limit_is_one_line_and_exit_2(diary_path, args, message):
    got = _search(diary_path, *args)
    assert (got.returncode, got.stdout) == (2, "")
    assert got.stderr == f"streamemo: error: {message}\n"
