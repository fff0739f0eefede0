"""The diary file: opening it safely, its schema version and the migrations to it.

Version N is reached by ``MIGRATIONS[N - 1]``; a new version appends a step and never
edits one, so a diary written by any earlier streamemo opens in this one.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path

from streamemo.diary.mood import mood
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
    statement = ""
    for line in sql.splitlines():
        statement += line.split("--")[0] + "\n"
        if sqlite3.complete_statement(statement):  # a trigger's body holds ; of its own
            db.execute(statement)
            statement = ""


def _v2(db: sqlite3.Connection) -> None:
    """Full-text search (FTS5) over what was said, and each utterance's words and mood
    kept beside it, so that lists and summaries add numbers instead of parsing JSON."""
    _script(
        db,
        """
        ALTER TABLE utterances ADD COLUMN words INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE utterances ADD COLUMN mood REAL;   -- in [-1, 1]: streamemo.diary.mood
        CREATE VIRTUAL TABLE said USING fts5 (
            text, content = 'utterances', content_rowid = 'id',
            tokenize = 'porter unicode61 remove_diacritics 2'
        );
        CREATE TRIGGER said_insert AFTER INSERT ON utterances BEGIN
            INSERT INTO said (rowid, text) VALUES (new.id, coalesce(new.text, ''));
        END;
        CREATE TRIGGER said_delete AFTER DELETE ON utterances BEGIN
            INSERT INTO said (said, rowid, text) VALUES ('delete', old.id, coalesce(old.text, ''));
        END;
        CREATE TRIGGER said_update AFTER UPDATE OF text ON utterances BEGIN
            INSERT INTO said (said, rowid, text) VALUES ('delete', old.id, coalesce(old.text, ''));
            INSERT INTO said (rowid, text) VALUES (new.id, coalesce(new.text, ''));
        END;
        """,
    )
    rows = db.execute("SELECT id, text, event FROM utterances").fetchall()
    db.executemany(
        "UPDATE utterances SET words = ?, mood = ? WHERE id = ?",
        [(len((t or "").split()), mood(json.loads(e).get("emotion")), i) for i, t, e in rows],
    )
    db.execute("INSERT INTO said (said) VALUES ('rebuild')")


def _v3(db: sqlite3.Connection) -> None:
    """An index holding every number that lists and summaries add up per entry (covering:
    they read it instead of the rows, each with its whole event): periods() over 100 000
    utterances took 0.65 s reading the rows, 0.2 s with it (benchmarks/diary.py)."""
    db.execute(
        "CREATE INDEX utterances_totals ON utterances (entry_id, label, mood, start, end, words)"
    )


MIGRATIONS: tuple[Callable[[sqlite3.Connection], None], ...] = (_v1, _v2, _v3)
SCHEMA_VERSION = len(MIGRATIONS)


def connect(path: Path, create: bool) -> sqlite3.Connection:
    if not path.exists():
        if not create:
            raise DiaryError(
                f"no diary at {str(path)!r} yet: dictate an entry first (streamemo diary record),"
                " or give an existing --db"
            )
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
    db.execute("PRAGMA secure_delete = ON")  # deleted text overwritten, not left in free pages
    return db


def check_and_migrate(db: sqlite3.Connection, path: Path) -> None:
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
