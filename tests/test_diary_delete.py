"""streamemo diary delete through the real CLI: the entry, its utterances and its kept FLAC
gone, and its words gone from the file's bytes (rows, search index, write-ahead log); it
asks on a terminal, refuses without one unless --yes; an unknown id touches nothing."""

import hashlib
import os
import subprocess
import sys

import numpy as np
import pytest
import soundfile

from streamemo.diary.searching import search
from streamemo.diary.store import Diary
from tests.conftest import REPO, run_cli

SECRET = "zyxwqv"  # no stemming changes it, no other word starts with z: stored whole


def _diary(path, entries: int = 3) -> list[int]:
    """Entries of 40 utterances each; the second one says the secret word; all have audio."""
    ids = []
    with Diary(path) as diary:
        for n in range(entries):
            entry = diary.begin_entry("mic", 1_775_000_000.0 + 86_400 * n)
            for uid in range(40):
                word = SECRET if n == 1 and uid % 10 == 3 else "ordinary"
                text = f"an {word} thing I said, number {uid}"
                emotion = {"label": "joy", "score": 0.5, "scores": {"joy": 0.5, "neutral": 0.5}}
                event = {"id": uid, "start": uid * 3.0, "end": uid * 3.0 + 2, "text": text,
                         "emotion": emotion}  # fmt: skip
                diary.add_utterance(entry, event)
            diary.finish_entry(entry, 1_775_000_200.0 + 86_400 * n)
            tone = 0.1 * np.sin(np.linspace(0, 2000, 16_000)).astype(np.float32)
            soundfile.write(diary.new_audio_path(entry), tone, 16_000, format="FLAC")
            ids.append(entry)
    return ids


def _raw(path) -> bytes:
    """Every byte SQLite keeps for the diary: the file, its -wal and -shm."""
    return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*") if p.is_file())


def test_deleted_words_are_gone_from_the_files_bytes_and_the_audio_too(tmp_path):
    path = tmp_path / "diary.db"
    keep, gone, last = _diary(path)
    assert SECRET.encode() in _raw(path)
    got = run_cli("diary", "delete", str(gone), "--db", str(path), "--yes")
    assert got.returncode == 0, got.stderr
    assert got.stderr == f"entry {gone} deleted, with its utterances and kept audio\n"
    assert SECRET.encode() not in _raw(path)  # rows, FTS5 index and WAL
    with Diary(path, create=False) as diary:
        assert [e.id for e in diary.entries()] == [keep, last]
        assert search(diary, SECRET) == [] and len(search(diary, "ordinary")) == 50
        assert not diary.audio_path(gone).exists()
        assert diary.audio_path(keep).exists() and diary.audio_path(last).exists()
        count = diary._db.execute("SELECT count(*) FROM utterances").fetchone()[0]
    assert count == 80


def _digests(folder) -> dict:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.rglob("*")
            if p.is_file()}  # fmt: skip


@pytest.mark.parametrize(
    "args, message",
    [
        (["99"], "no diary entry 99 in '{db}': see diary list"),
        (["99", "--yes"], "no diary entry 99 in '{db}': see diary list"),
        (["2"], "give --yes to delete entry 2 without asking"),  # no terminal here
    ],
)
def test_an_unknown_id_or_no_yes_without_a_terminal_touches_nothing(tmp_path, args, message):
    path = tmp_path / "diary.db"
    _diary(path)
    before = _digests(tmp_path)
    got = run_cli("diary", "delete", *args, "--db", str(path), input="y\n")  # stdin: a pipe
    assert (got.returncode, got.stdout) == (2, "")
    assert got.stderr == f"streamemo: error: {message.format(db=path)}\n"
    assert _digests(tmp_path) == before


@pytest.mark.parametrize("answer, kept", [("y", False), ("n", True), ("", True)])
def test_on_a_terminal_it_asks_first(tmp_path, answer, kept):
    path = tmp_path / "diary.db"
    _diary(path)
    controller, terminal = os.openpty()
    os.write(controller, f"{answer}\n".encode())
    got = subprocess.run(
        [sys.executable, "-m", "streamemo", "diary", "delete", "2", "--db", str(path)],
        cwd=REPO, stdin=terminal, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    os.close(terminal)
    os.close(controller)
    assert got.stderr.startswith("delete entry 2 (2026-")
    assert ", 280 words)? [y/N] " in got.stderr
    assert got.returncode == (1 if kept else 0)
    with Diary(path, create=False) as diary:
        assert (2 in [e.id for e in diary.entries()]) is kept
        assert diary.audio_path(2).exists() is kept
