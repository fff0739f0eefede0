"""The diary sink and ``streamemo diary list|show``, through the real command line."""

import json
import os
import signal
import sqlite3
import stat
import subprocess
import sys
import time

import pytest

from tests.conftest import REPO, run_cli
from tests.espeak import speak

SENTENCES = "I walked to the river this morning. Then I called my sister and we laughed."
FAST = ["-o", "text.enabled=false", "-o", "audio.enabled=false"]  # Whisper alone: quick


@pytest.fixture(scope="module")
def speech(tmp_path_factory):
    path = tmp_path_factory.mktemp("diary") / "entry.wav"
    speak(SENTENCES.replace(". ", ".\n\n"), path)
    return path


def test_a_run_with_the_diary_sink_is_one_entry_to_list_and_show(tmp_path, speech):
    db = tmp_path / "data" / "diary.db"
    out = tmp_path / "events.jsonl"
    result = run_cli(
        "-q", "run", "--input", str(speech), *FAST, "--sink", f"diary:{db}",
        "--sink", f"jsonl:{out}", timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    said = [e for e in map(json.loads, out.read_text().splitlines()) if e["type"] == "utterance"]
    assert len(said) >= 2
    assert stat.S_IMODE(db.stat().st_mode) == 0o600

    listing = run_cli("diary", "list", "--db", str(db))
    assert listing.returncode == 0, listing.stderr
    (line,) = listing.stdout.splitlines()
    words = sum(len(e["text"].split()) for e in said)
    assert line.split()[0] == "1" and f"{words} words" in " ".join(line.split())
    assert "unfinished" not in line

    shown = run_cli("diary", "show", "1", "--db", str(db))
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert len(lines) == 1 + len(said)
    assert [e["text"] for e in said] == [eval(line.split("  ")[-1]) for line in lines[1:]]

    today = time.strftime("%Y-%m-%d")
    assert run_cli("diary", "list", "--db", str(db), "--since", today).stdout == listing.stdout
    assert run_cli("diary", "list", "--db", str(db), "--until", "2000-01-01").stdout == ""


def test_kill_9_during_a_dictation_keeps_the_entry_with_what_was_said(tmp_path, speech):
    db = tmp_path / "diary.db"
    child = subprocess.Popen(
        [sys.executable, "-m", "streamemo", "-q", "run", "--input", str(speech), "--realtime",
         *FAST, "--sink", f"diary:{db}"],
        cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    count = 0
    while time.monotonic() < deadline and count < 1:  # the first sentence is in
        time.sleep(0.2)
        if db.exists():
            with sqlite3.connect(db) as con:
                try:
                    count = con.execute("SELECT count(*) FROM utterances").fetchone()[0]
                except sqlite3.OperationalError:  # the schema is being created
                    pass
    os.kill(child.pid, signal.SIGKILL)
    child.wait(timeout=30)
    assert count >= 1, "no utterance reached the diary before the kill"
    listing = run_cli("diary", "list", "--db", str(db))
    assert listing.returncode == 0, listing.stderr
    (line,) = listing.stdout.splitlines()
    assert "(unfinished)" in line


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["list", "--since", "yesterday"], "--since 'yesterday' is not a date: write YYYY-MM-DD"),
        (["show", "7"], "no diary entry 7"),
        (["list", "--db", "{missing}"], "no diary at"),
        (["list", "--db", "{text}"], "is not a streamemo diary"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path, args, message):
    db = tmp_path / "diary.db"
    text = tmp_path / "notes.txt"
    text.write_text("not a diary\n")
    from streamemo.diary.store import Diary

    Diary(db).close()
    args = [a.format(missing=tmp_path / "none.db", text=text) for a in args]
    if "--db" not in args:
        args += ["--db", str(db)]
    before = text.read_bytes()
    result = run_cli("diary", *args)
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("streamemo: error: ") and message in line, line
    assert text.read_bytes() == before and not (tmp_path / "none.db").exists()


def test_a_diary_sink_that_cannot_open_its_file_fails_before_anything_loads(tmp_path, speech):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    result = run_cli("-q", "run", "--input", str(speech), *FAST, "--sink", f"diary:{blocker}/d.db")
    assert result.returncode == 2
    assert "cannot create the diary" in result.stderr and len(result.stderr.splitlines()) == 1


def test_until_includes_the_whole_of_a_day_with_a_clock_change():
    # 2026-03-29 has 23 hours in Berlin: --until ends at the next local midnight, not 24 h on
    code = (
        "from datetime import datetime; from streamemo.diary.commands.listing import day; "
        "print(day('2026-03-29', '--until', after=True) == datetime(2026, 3, 30).timestamp())"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], env={**os.environ, "TZ": "Europe/Berlin"},
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.stdout.strip() == "True", result.stderr


def test_a_reader_that_stops_early_gets_no_traceback(tmp_path):
    from streamemo.diary.store import Diary

    db = tmp_path / "d.db"
    with Diary(db) as diary:
        entry = diary.begin_entry("mic", 1_764_633_600.0)
        for uid in range(3000):  # far more than a pipe holds
            event = {"id": uid, "start": uid, "end": uid + 1, "text": "a line " * 8}
            diary.add_utterance(entry, event)
    show = subprocess.Popen(
        [sys.executable, "-m", "streamemo", "diary", "show", str(entry), "--db", str(db)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO,
    )  # fmt: skip
    show.stdout.readline()  # `diary show 1 | head -1`
    show.stdout.close()
    assert show.wait(timeout=60) == 0
    assert show.stderr.read() == b""
