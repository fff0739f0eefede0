"""The diary written out: JSON (lossless), CSV (a row per utterance) or Markdown (to read).

JSON is one document, the whole diary or a span of it, as it is stored::

    {"format": "streamemo-diary", "version": 1, "since": "YYYY-MM-DD" | null, "until": ...,
     "entries": [{"id": 12, "stream": "mic", "started_at": 1764614645.25,  # Unix time
                  "ended_at": 1764615100.5 | null,                          # null: unfinished
                  "utterances": [EVENT, ...]}]}                             # by start

Each EVENT is the utterance event exactly as it was kept (the JSON ``streamemo run``
writes, ``streamemo.events``): nothing is dropped or rounded, so a diary can be rebuilt
from it (``Diary.begin_entry(stream, started_at)``, ``add_utterance`` for each event,
``finish_entry(ended_at)``). Entries are oldest first; each is written as it is read, so
a large diary is never held in memory whole.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import datetime
from typing import IO, Any

from streamemo.diary.store import Diary, Entry

FORMAT, VERSION = "streamemo-diary", 1
FORMATS = ("json", "csv", "md")
CSV_COLUMNS = (
    "entry_id", "datetime", "start", "end", "text", "emotion", "emotion_score",
    "text_emotion", "text_score", "voice_emotion", "voice_score", "mood",
)  # fmt: skip


def export(diary: Diary, fmt: str, out: IO[str], span: tuple[float | None, float | None],
           days: tuple[str | None, str | None] = (None, None)) -> int:  # fmt: skip
    """Write the entries that started within ``span`` to ``out``; how many there were."""
    entries = diary.entries(*span)
    {"json": _json, "csv": _csv, "md": _markdown}[fmt](diary, entries, out, days)
    return len(entries)


def _events(diary: Diary, entry_id: int) -> Iterator[str]:
    """The entry's events as stored (JSON text), in the order ``Diary.entry`` gives them."""
    for (raw,) in diary._db.execute(
        "SELECT event FROM utterances WHERE entry_id = ? ORDER BY start, uid", (entry_id,)
    ):
        yield raw


def _rows(diary: Diary, entry_id: int) -> Iterator[tuple]:
    """start, end, text, fused label and score, mood, text and voice emotion: (label,
    score) each; SQLite takes the two score maps out of the event (no whole parse)."""
    for *row, text_scores, voice_scores in diary._db.execute(
        "SELECT start, end, text, label, score, mood,"
        " json_extract(event, '$.text_emotion.scores'),"
        " json_extract(event, '$.audio_emotion.scores')"
        " FROM utterances WHERE entry_id = ? ORDER BY start, uid",
        (entry_id,),
    ):
        yield (*row, _top(text_scores), _top(voice_scores))


def _json(diary: Diary, entries: list[Entry], out: IO[str], days: tuple) -> None:
    head = {"format": FORMAT, "version": VERSION, "since": days[0], "until": days[1]}
    out.write(json.dumps(head, ensure_ascii=False)[:-1] + ', "entries": [')
    for n, e in enumerate(entries):
        fields = {"id": e.id, "stream": e.stream, "started_at": e.started_at,
                  "ended_at": e.ended_at}  # fmt: skip
        out.write(("," if n else "") + "\n " + json.dumps(fields, ensure_ascii=False)[:-1])
        out.write(', "utterances": [' + ",\n  ".join(_events(diary, e.id)) + "]}")
    out.write("\n]}\n")


def _csv(diary: Diary, entries: list[Entry], out: IO[str], days: tuple) -> None:
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for entry in entries:
        for start, end, text, label, score, mood, (tl, ts), (vl, vs) in _rows(diary, entry.id):
            when = _local(entry.started_at + start)
            writer.writerow((entry.id, when, start, end, text or "", label or "", _blank(score),
                             tl, ts, vl, vs, _blank(mood)))  # fmt: skip


def _markdown(diary: Diary, entries: list[Entry], out: IO[str], days: tuple) -> None:
    span = " to ".join(d or "…" for d in days) if any(days) else "everything"
    out.write(f"# Voice diary\n\n{len(entries)} entries ({span}).\n")
    day = None
    for entry in entries:
        started = datetime.fromtimestamp(entry.started_at)
        if started.date() != day:
            day = started.date()
            out.write(f"\n## {day:%A %d %B %Y}\n")
        minutes, seconds = divmod(round(entry.spoken_s), 60)
        feeling = f", mostly {entry.emotion}" if entry.emotion else ""
        state = " (unfinished)" if entry.ended_at is None else ""
        out.write(
            f"\n### {started:%H:%M}, entry {entry.id}{state}\n\n"
            f"{entry.words} words, {minutes}:{seconds:02d} spoken{feeling}.\n\n"
        )
        for start, _, text, label, score, _, *analyses in _rows(diary, entry.id):
            when = datetime.fromtimestamp(entry.started_at + start)
            feeling = [f"{label} {score:.2f}"] if label else []
            for name, (other, its) in zip(("text", "voice"), analyses, strict=True):
                feeling += [f"{name} {other} {its:.2f}"] if other else []
            words = _escape(" ".join((text or "").split())) or "*(no words)*"
            note = f" *({'; '.join(feeling)})*" if feeling else ""
            out.write(f"- {when:%H:%M:%S} {words}{note}\n")


def _escape(text: str) -> str:
    """Markdown's own characters, shown as themselves."""
    for char in "\\`*_[]<>#|":
        text = text.replace(char, "\\" + char)
    return text


def _top(scores_json: str | None) -> tuple[str, Any]:
    """The label with the highest score, and that score ("", "" when there are none)."""
    scores = json.loads(scores_json) if scores_json else None
    if not scores or not isinstance(scores, dict):
        return "", ""
    label = max(scores, key=scores.__getitem__)
    return label, scores[label]


def _blank(value: Any) -> Any:
    return "" if value is None else value


def _local(t: float) -> str:
    return datetime.fromtimestamp(t).astimezone().isoformat(timespec="milliseconds")
