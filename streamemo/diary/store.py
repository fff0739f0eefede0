"""The voice diary on SQLite: entries and their utterances.

One file per diary, in WAL mode: every utterance is its own transaction, committed as it
arrives, so a dictation killed mid-way keeps every utterance so far (its entry stays
unfinished), and two writers on one file wait for each other instead of losing rows.
The file (and SQLite's -wal/-shm beside it, which take its mode) is its owner's only,
and so are the kept recordings in the folder beside it (``Diary.audio_path``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from streamemo.diary.mood import mood
from streamemo.diary.schema import (
    MIGRATIONS,
    SCHEMA_VERSION,
    DiaryError,
    check_and_migrate,
    connect,
)

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "Diary", "DiaryError", "Entry", "default_path"]


@dataclass(frozen=True, slots=True)
class Entry:
    id: int
    stream: str
    started_at: float
    ended_at: float | None  # None: unfinished (the dictation was killed)
    utterances: int
    words: int
    spoken_s: float
    emotion: str | None  # the fused emotion weighted by speaking time


def default_path() -> Path:
    """The diary in the user's data folder (``~/.local/share/streamemo`` on Linux)."""
    from platformdirs import user_data_path

    return user_data_path("streamemo") / "diary.db"


class Diary:
    """One diary file, used by one thread at a time (a sink opens it on the main thread
    and writes on its own); each process or concurrent thread opens its own."""

    def __init__(self, path: str | Path, *, create: bool = True):
        self.path = Path(path).expanduser()
        self._db = connect(self.path, create)
        try:
            check_and_migrate(self._db, self.path)
        except BaseException:
            self._db.close()
            raise

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Diary:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @contextmanager
    def _write(self) -> Iterator[Any]:
        self._db.execute("BEGIN IMMEDIATE")  # take the write lock now, or wait for it
        try:
            yield self._db
        except BaseException:
            self._db.rollback()
            raise
        self._db.commit()

    # -- writing -------------------------------------------------------------
    def begin_entry(self, stream: str, started_at: float) -> int:
        """The entry of a stream that started at ``started_at`` (the same one again when
        it exists: a stream is one entry)."""
        with self._write() as db:
            db.execute(
                "INSERT OR IGNORE INTO entries (stream, started_at) VALUES (?, ?)",
                (stream, started_at),
            )
            (entry_id,) = db.execute(
                "SELECT id FROM entries WHERE stream = ? AND started_at = ?",
                (stream, started_at),
            ).fetchone()
        return int(entry_id)

    def add_utterance(self, entry_id: int, event: dict[str, Any]) -> None:
        """One utterance event (``streamemo.events.event_to_dict``), committed now."""
        with self._write() as db:
            _insert(db, entry_id, event)

    def replace_utterances(self, entry_id: int, events: Iterable[dict[str, Any]]) -> None:
        """The entry's utterances, all replaced by ``events`` in one transaction (a new
        analysis of kept audio): a failure half-way leaves the old ones."""
        with self._write() as db:
            self._require(entry_id)
            db.execute("DELETE FROM utterances WHERE entry_id = ?", (entry_id,))
            for event in events:
                _insert(db, entry_id, event)

    def finish_entry(self, entry_id: int, ended_at: float) -> None:
        with self._write() as db:
            db.execute("UPDATE entries SET ended_at = ? WHERE id = ?", (ended_at, entry_id))

    def delete(self, entry_id: int) -> None:
        """The entry, its utterances and its kept audio, gone (``DiaryError`` for an
        unknown id). The rows go first: audio never outlives a deleted entry's text."""
        with self._write() as db:
            if not db.execute("DELETE FROM entries WHERE id = ?", (entry_id,)).rowcount:
                raise self._unknown(entry_id)
            # the search index only marks them deleted, its old segments keep every word:
            # merged into one without them (a second or so for 100 000 utterances)
            db.execute("INSERT INTO said (said) VALUES ('optimize')")
        with suppress(FileNotFoundError):
            self.audio_path(entry_id).unlink()
        # the rows' old bytes are zeroed (secure_delete, schema.connect) but older copies
        # of the pages stay in the WAL until it is checkpointed and emptied
        self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    # -- kept audio --------------------------------------------------------------
    @property
    def audio_folder(self) -> Path:
        """Where kept recordings live: ``diary-audio/`` beside ``diary.db``."""
        return self.path.with_name(self.path.stem + "-audio")

    def audio_path(self, entry_id: int) -> Path:
        """The entry's kept recording (FLAC), whether or not it exists."""
        return self.audio_folder / f"{entry_id}.flac"

    def new_audio_path(self, entry_id: int) -> Path:
        """The path to write an entry's recording to, in a folder only its owner reads."""
        self.audio_folder.mkdir(mode=0o700, exist_ok=True)
        os.chmod(self.audio_folder, 0o700)
        return self.audio_path(entry_id)

    # -- reading ---------------------------------------------------------------
    def entries(self, since: float | None = None, until: float | None = None) -> list[Entry]:
        """Entries that started in ``[since, until)`` (Unix times), oldest first."""
        span = (since if since is not None else float("-inf"), until or float("inf"))
        return self._summaries("e.started_at >= ? AND e.started_at < ?", span)

    def _summaries(self, where: str, params: tuple) -> list[Entry]:
        """Entries with their totals: two queries whatever their number, the second read
        from the covering index utterances_totals (schema v3) in its own order."""
        rows = self._db.execute(
            f"SELECT e.id, e.stream, e.started_at, e.ended_at FROM entries e WHERE {where}"
            " ORDER BY e.started_at, e.id",
            params,
        ).fetchall()
        totals: dict[int, list] = {}  # entry -> [utterances, words, seconds, {label: seconds}]
        for entry_id, label, count, words, seconds in self._db.execute(
            "SELECT u.entry_id, u.label, count(*), sum(u.words), sum(u.end - u.start)"
            f" FROM utterances u WHERE u.entry_id IN (SELECT e.id FROM entries e WHERE {where})"
            " GROUP BY u.entry_id, u.label",
            params,
        ):
            total = totals.setdefault(entry_id, [0, 0, 0.0, {}])
            total[0] += count
            total[1] += words
            total[2] += seconds
            if label is not None:
                total[3][label] = seconds
        empty = [0, 0, 0.0, None]
        return [
            Entry(*row, *(t := totals.get(row[0], empty))[:2], round(t[2], 2), _most(t[3]))
            for row in rows
        ]

    def entry(self, entry_id: int) -> tuple[Entry, list[dict[str, Any]]]:
        """An entry and its utterance events in order (``DiaryError`` if there is none)."""
        found = self._summaries("e.id = ?", (entry_id,))
        if not found:
            raise self._unknown(entry_id)
        events = [
            json.loads(text)
            for (text,) in self._db.execute(
                "SELECT event FROM utterances WHERE entry_id = ? ORDER BY start, uid",
                (entry_id,),
            )
        ]
        return found[0], events

    def _require(self, entry_id: int) -> None:
        if self._db.execute("SELECT 1 FROM entries WHERE id = ?", (entry_id,)).fetchone() is None:
            raise self._unknown(entry_id)

    def _unknown(self, entry_id: int) -> DiaryError:
        return DiaryError(f"no diary entry {entry_id} in {str(self.path)!r}: see diary list")


def _insert(db: Any, entry_id: int, event: dict[str, Any]) -> None:
    emotion = event.get("emotion") or {}
    text = event.get("text")
    db.execute(
        "INSERT OR REPLACE INTO utterances"
        " (entry_id, uid, start, end, text, label, score, event, words, mood)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            entry_id,
            int(event["id"]),
            float(event["start"]),
            float(event["end"]),
            text,
            emotion.get("label"),
            emotion.get("score"),
            json.dumps(event, ensure_ascii=False, separators=(",", ":")),
            len((text or "").split()),
            mood(emotion),
        ),
    )


def _most(seconds_by_label: dict[str, float] | None) -> str | None:
    if not seconds_by_label:
        return None
    return max(seconds_by_label, key=seconds_by_label.__getitem__)
