"""The voice diary on SQLite: entries, their utterances, a schema version and migrations.

One file per diary, in WAL mode: every utterance is its own transaction, committed as it
arrives, so a dictation killed mid-way keeps every utterance so far (its entry stays
unfinished), and two writers on one file wait for each other instead of losing rows.
The file (and SQLite's -wal/-shm beside it, which take its mode) is its owner's only.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from streamemo.errors import InputError

APP = "streamemo-diary"
BUSY_MS = 10_000  # how long a writer waits for the other one's transaction


class DiaryError(InputError):
    """A diary that cannot be opened or read as asked: one line, nothing touched."""


def _v1(db: sqlite3.Connection) -> None:
    _script(
        db,
        """
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE entries (
            id INTEGER PRIMARY KEY,
            stream TEXT NOT NULL,
            started_at REAL NOT NULL,      -- Unix time of the stream's second 0
            ended_at REAL,                 -- NULL while the dictation is unfinished
            UNIQUE (stream, started_at)
        );
        CREATE INDEX entries_by_start ON entries (started_at);
        CREATE TABLE utterances (
            id INTEGER PRIMARY KEY,
            entry_id INTEGER NOT NULL REFERENCES entries (id) ON DELETE CASCADE,
            uid INTEGER NOT NULL,          -- the event's id within its stream
            start REAL NOT NULL,           -- seconds from the stream start
            end REAL NOT NULL,
            text TEXT,
            label TEXT,                    -- the fused emotion's top label
            score REAL,
            event TEXT NOT NULL,           -- the whole event as JSON: nothing is lost
            UNIQUE (entry_id, uid)
        );
        CREATE INDEX utterances_by_entry ON utterances (entry_id, start);
        """,
    )
    db.execute("INSERT INTO meta VALUES ('app', ?)", (APP,))


def _script(db: sqlite3.Connection, sql: str) -> None:
    """Statements one by one, inside the caller's transaction (executescript commits)."""
    lines = [line.split("--")[0] for line in sql.splitlines()]
    for statement in "\n".join(lines).split(";"):
        if statement.strip():
            db.execute(statement)


# version N is reached by MIGRATIONS[N - 1]; a new version appends a step, never edits one
MIGRATIONS: tuple[Callable[[sqlite3.Connection], None], ...] = (_v1,)
SCHEMA_VERSION = len(MIGRATIONS)


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
        self._db = _connect(self.path, create)
        try:
            _check_and_migrate(self._db, self.path)
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
    def _write(self) -> Iterator[sqlite3.Connection]:
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
        emotion = event.get("emotion") or {}
        row = (
            entry_id,
            int(event["id"]),
            float(event["start"]),
            float(event["end"]),
            event.get("text"),
            emotion.get("label"),
            emotion.get("score"),
            json.dumps(event, ensure_ascii=False, separators=(",", ":")),
        )
        with self._write() as db:
            db.execute(
                "INSERT OR REPLACE INTO utterances"
                " (entry_id, uid, start, end, text, label, score, event)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                row,
            )

    def finish_entry(self, entry_id: int, ended_at: float) -> None:
        with self._write() as db:
            db.execute("UPDATE entries SET ended_at = ? WHERE id = ?", (ended_at, entry_id))

    def delete(self, entry_id: int) -> None:
        """The entry and its utterances, gone (``DiaryError`` for an unknown id)."""
        with self._write() as db:
            if not db.execute("DELETE FROM entries WHERE id = ?", (entry_id,)).rowcount:
                raise self._unknown(entry_id)

    # -- reading ---------------------------------------------------------------
    def entries(self, since: float | None = None, until: float | None = None) -> list[Entry]:
        """Entries that started in ``[since, until)`` (Unix times), oldest first."""
        rows = self._db.execute(
            "SELECT id, stream, started_at, ended_at FROM entries"
            " WHERE started_at >= ? AND started_at < ? ORDER BY started_at, id",
            (since if since is not None else float("-inf"), until or float("inf")),
        ).fetchall()
        return [self._summary(*row) for row in rows]

    def entry(self, entry_id: int) -> tuple[Entry, list[dict[str, Any]]]:
        """An entry and its utterance events in order (``DiaryError`` if there is none)."""
        row = self._db.execute(
            "SELECT id, stream, started_at, ended_at FROM entries WHERE id = ?", (entry_id,)
        ).fetchone()
        if row is None:
            raise self._unknown(entry_id)
        events = [
            json.loads(text)
            for (text,) in self._db.execute(
                "SELECT event FROM utterances WHERE entry_id = ? ORDER BY start, uid",
                (entry_id,),
            )
        ]
        return self._summary(*row), events

    def _unknown(self, entry_id: int) -> DiaryError:
        return DiaryError(f"no diary entry {entry_id} in {str(self.path)!r}: see diary list")

    def _summary(self, entry_id: int, stream: str, started: float, ended: float | None) -> Entry:
        rows = self._db.execute(
            "SELECT text, label, end - start FROM utterances WHERE entry_id = ?", (entry_id,)
        ).fetchall()
        spoken: dict[str, float] = {}
        for _text, label, seconds in rows:
            if label is not None:
                spoken[label] = spoken.get(label, 0.0) + seconds
        return Entry(
            entry_id,
            stream,
            started,
            ended,
            len(rows),
            sum(len((text or "").split()) for text, _label, _s in rows),
            round(sum(seconds for _t, _l, seconds in rows), 2),
            max(spoken, key=spoken.__getitem__) if spoken else None,
        )


def _connect(path: Path, create: bool) -> sqlite3.Connection:
    if not path.exists():
        if not create:
            raise DiaryError(f"no diary at {str(path)!r}: give an existing --db")
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        except OSError as exc:
            raise DiaryError(
                f"cannot create the diary {str(path)!r}: {exc.strerror or exc}; "
                "give a --db path in a folder you can write"
            ) from None
    elif path.is_dir():
        raise DiaryError(f"--db {str(path)!r} is a folder: give the diary's file")
    db = sqlite3.connect(
        path, timeout=BUSY_MS / 1000, isolation_level=None, check_same_thread=False
    )
    db.execute(f"PRAGMA busy_timeout = {BUSY_MS}")
    return db


def _check_and_migrate(db: sqlite3.Connection, path: Path) -> None:
    """A streamemo diary of a version this code knows, brought up to date; anything else
    is one line and the file is left as it was."""
    where = str(path)
    try:
        version = db.execute("PRAGMA user_version").fetchone()[0]
        tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master")}
    except sqlite3.DatabaseError:
        raise DiaryError(
            f"{where!r} is not a streamemo diary (not SQLite): give another --db"
        ) from None
    if tables and "meta" not in tables:
        raise DiaryError(f"{where!r} is not a streamemo diary: give another --db")
    if tables:
        row = db.execute("SELECT value FROM meta WHERE key = 'app'").fetchone()
        if row is None or row[0] != APP:
            raise DiaryError(f"{where!r} is not a streamemo diary: give another --db")
    if version > SCHEMA_VERSION:
        raise DiaryError(
            f"the diary {where!r} has schema version {version}; this streamemo reads up to "
            f"{SCHEMA_VERSION}: upgrade streamemo"
        )
    if version == SCHEMA_VERSION:
        db.execute("PRAGMA foreign_keys = ON")
        return
    db.execute("PRAGMA journal_mode = WAL")  # persistent: set once, with the first step
    db.execute("BEGIN IMMEDIATE")
    try:
        # another writer may have migrated it meanwhile: read the version under the lock
        current = db.execute("PRAGMA user_version").fetchone()[0]
        for step in range(current, SCHEMA_VERSION):
            MIGRATIONS[step](db)
            db.execute(f"PRAGMA user_version = {step + 1}")
    except BaseException:
        db.rollback()
        raise
    db.commit()
    db.execute("PRAGMA foreign_keys = ON")
