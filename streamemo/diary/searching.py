"""Full-text search over what was said (SQLite FTS5, the table ``said`` of schema v2)."""

from __future__ import annotations

from dataclasses import dataclass

from streamemo.diary.store import Diary, DiaryError


@dataclass(frozen=True, slots=True)
class Hit:
    """One utterance that a search found."""

    entry_id: int
    entry_started_at: float
    start: float  # seconds into the entry
    end: float
    text: str
    snippet: str  # the text with the matched words in [brackets]


def search(diary: Diary, text: str, limit: int | None = 50) -> list[Hit]:
    """Utterances whose words match every word of ``text`` (stemmed: "walked" finds
    "walking"), newest first, at most ``limit`` (None: all). Quotes, ``*``, ``-``,
    ``:`` and AND/OR/NOT are text to look for, never query syntax."""
    if not text.split():
        raise DiaryError("diary search needs a word to look for: give TEXT")
    query = " ".join('"' + w.replace('"', '""') + '"' for w in text.split())
    rows = diary._db.execute(
        "SELECT u.id, u.entry_id, e.started_at, u.start, u.end, u.text"
        " FROM said JOIN utterances u ON u.id = said.rowid"
        " JOIN entries e ON e.id = u.entry_id"
        " WHERE said MATCH ? ORDER BY e.started_at DESC, u.start LIMIT ?",
        (query, -1 if limit is None else limit),
    ).fetchall()
    # snippets of the hits shown only: one costs more than finding ("and" is everywhere)
    snippets: dict[int, str] = {}
    for at in range(0, len(rows), 500):  # under SQLite's limit of bound parameters
        ids = [row[0] for row in rows[at : at + 500]]
        snippets.update(
            diary._db.execute(
                "SELECT rowid, snippet(said, 0, '[', ']', '…', 12) FROM said"
                f" WHERE said MATCH ? AND rowid IN ({', '.join('?' * len(ids))})",
                (query, *ids),
            )
        )
    return [Hit(*row[1:], snippets[row[0]]) for row in rows]
