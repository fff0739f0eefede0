"""The diary's SQLite store: real files, real processes, kill -9 and two writers."""

import hashlib
import json
import os
import signal
import sqlite3
import stat
import subprocess
import sys
import textwrap

import pytest

from streamemo.diary.searching import search
from streamemo.diary.store import SCHEMA_VERSION, Diary, DiaryError


def _event(uid: int, start: float, label: str, text: str = "a few words here") -> dict:
    return {
        "type": "utterance",
        "stream": "mic",
        "id": uid,
        "start": start,
        "end": start + 2.0,
        "text": text,
        "emotion": {"label": label, "score": 0.6, "scores": {label: 0.6}},
    }


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_an_entry_keeps_its_utterances_and_summary(tmp_path):
    path = tmp_path / "sub" / "diary.db"
    with Diary(path) as diary:
        entry = diary.begin_entry("mic", 1_764_633_600.0)
        assert diary.begin_entry("mic", 1_764_633_600.0) == entry  # one stream, one entry
        diary.add_utterance(entry, _event(1, 0.5, "joy"))
        diary.add_utterance(entry, _event(2, 3.0, "sadness", "two words"))
        diary.add_utterance(entry, _event(3, 6.0, "sadness", "three more words"))
        diary.finish_entry(entry, 1_764_633_610.0)
        (summary,) = diary.entries()
        assert (summary.utterances, summary.words, summary.spoken_s) == (3, 9, 6.0)
        assert summary.emotion == "sadness" and summary.ended_at == 1_764_633_610.0
        _, events = diary.entry(entry)
        assert [e["id"] for e in events] == [1, 2, 3] and events[1]["text"] == "two words"
        assert diary.entries(since=1_764_633_601.0) == []
    mode = stat.S_IMODE(path.stat().st_mode)
    assert mode == 0o600, oct(mode)
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_delete_removes_the_entry_and_its_utterances(tmp_path):
    with Diary(tmp_path / "d.db") as diary:
        keep, gone = diary.begin_entry("a", 1.0), diary.begin_entry("b", 2.0)
        for entry in (keep, gone):
            diary.add_utterance(entry, _event(1, 0.0, "joy"))
        diary.delete(gone)
        assert [e.id for e in diary.entries()] == [keep]
        with pytest.raises(DiaryError, match=f"no diary entry {gone}"):
            diary.delete(gone)
    with sqlite3.connect(tmp_path / "d.db") as db:
        assert db.execute("SELECT count(*) FROM utterances").fetchone()[0] == 1


WRITER = textwrap.dedent(
    """
    import os, signal, sys
    from streamemo.diary.store import Diary
    path, stream, n, kill = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] == "kill"
    diary = Diary(path)
    entry = diary.begin_entry(stream, 1000.0)
    for i in range(n):
        diary.add_utterance(entry, {"id": i, "start": i, "end": i + 1, "text": f"word {i}",
                                    "emotion": {"label": "joy", "score": 0.5}})
    if kill:
        os.kill(os.getpid(), signal.SIGKILL)  # mid-dictation: no close, no finish
    diary.finish_entry(entry, 2000.0)
    """
)


def test_kill_9_mid_dictation_keeps_every_utterance_unfinished(tmp_path):
    path = tmp_path / "d.db"
    done = subprocess.run([sys.executable, "-c", WRITER, str(path), "mic", "7", "kill"])
    assert done.returncode == -signal.SIGKILL
    with Diary(path) as diary:
        (entry,) = diary.entries()
        assert entry.utterances == 7 and entry.ended_at is None


def test_two_writers_at_once_lose_nothing(tmp_path):
    path = tmp_path / "d.db"
    Diary(path).close()  # created and migrated once; both then write
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(path), name, "150", "no"])
        for name in ("one", "two")
    ]
    assert [w.wait(timeout=120) for w in writers] == [0, 0]
    with Diary(path) as diary:
        entries = diary.entries()
        assert sorted(e.stream for e in entries) == ["one", "two"]
        assert [e.utterances for e in entries] == [150, 150]
        assert all(e.ended_at == 2000.0 for e in entries)


def test_a_first_version_diary_is_migrated_and_kept(tmp_path, monkeypatch):
    from streamemo.diary import schema

    path = tmp_path / "d.db"
    monkeypatch.setattr(schema, "MIGRATIONS", schema.MIGRATIONS[:1])  # as version 1 wrote it
    monkeypatch.setattr(schema, "SCHEMA_VERSION", 1)
    with Diary(path) as diary:
        entry = diary.begin_entry("mic", 5.0)
    with sqlite3.connect(path) as db:  # rows as version 1 wrote them
        assert db.execute("PRAGMA user_version").fetchone()[0] == 1
        for uid, start, label, text in [
            (1, 0.0, "joy", "we walked along the river"),
            (2, 3.0, "sadness", "then it rained"),
        ]:
            event = _event(uid, start, label, text)
            db.execute(
                "INSERT INTO utterances (entry_id, uid, start, end, text, label, score, event)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (entry, uid, start, start + 2, text, label, 0.6, json.dumps(event)),
            )
        assert "words" not in [row[1] for row in db.execute("PRAGMA table_info(utterances)")]
    monkeypatch.undo()

    with Diary(path) as diary:  # this version: the steps after 1 run once, data kept
        (summary,) = diary.entries()
        assert (summary.utterances, summary.words) == (2, 8)
        (hit,) = search(diary, "walking river")  # the old text is searchable, stemmed
        assert (hit.entry_id, hit.start, hit.text) == (entry, 0.0, "we walked along the river")
        assert diary.entry(entry)[1][1]["text"] == "then it rained"
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        moods = [m for (m,) in db.execute("SELECT mood FROM utterances ORDER BY uid")]
        assert moods == [0.6, -0.6]  # valence x score


@pytest.mark.parametrize("kind", ["text", "other-sqlite", "newer"])
def test_a_file_that_is_not_this_diary_is_one_line_and_untouched(tmp_path, kind):
    path = tmp_path / "x.db"
    if kind == "text":
        path.write_text("my notes, not a database\n" * 100)
        message = "not a streamemo diary"
    elif kind == "other-sqlite":
        with sqlite3.connect(path) as db:
            db.execute("CREATE TABLE photos (id INTEGER)")
        message = "not a streamemo diary"
    else:
        Diary(path).close()
        with sqlite3.connect(path) as db:
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
        message = f"schema version {SCHEMA_VERSION + 1}.*upgrade streamemo"
    before = _digest(path)
    with pytest.raises(DiaryError, match=message) as info:
        Diary(path)
    assert "\n" not in str(info.value)
    assert _digest(path) == before


def test_paths_that_cannot_be_a_diary(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    with pytest.raises(DiaryError, match=r"cannot create the diary.*--db"):
        Diary(blocker / "diary.db")
    with pytest.raises(DiaryError, match="is a folder"):
        Diary(tmp_path)
    with pytest.raises(DiaryError, match="no diary at"):
        Diary(tmp_path / "none.db", create=False)
    assert not (tmp_path / "none.db").exists()
    if os.geteuid() != 0:  # root writes anywhere: the read-only folder case needs a user
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        with pytest.raises(DiaryError, match="cannot create"):
            Diary(locked / "diary.db")
