"""The ``diary`` sink: every stream becomes an entry of the voice diary (SQLite).

    streamemo run --sink console --sink diary            # the diary in the data folder
    streamemo run --input today.wav --sink diary:~/diary.db

One entry per stream, keyed by the wall-clock time it started; each utterance is
committed as it arrives (``streamemo.diary.store``), and the entry is marked finished
when the stream ends. Under ``serve`` (``[serve] sinks = ["diary"]``) every stream is
an entry of its own.
"""

from __future__ import annotations

import time
from pathlib import Path

from streamemo.api import Event, Sink, StatusEvent, event_to_dict, hookimpl
from streamemo.diary.store import Diary, DiaryError, default_path
from streamemo.paths import cannot_create


class DiarySink(Sink):
    event_types = frozenset({"utterance", "status"})

    def __init__(self, target: str | None = None):
        # opened here, on the main thread: a path that cannot be a diary fails at start-up
        self.diary = Diary(target or default_path())
        self._entries: dict[str, int] = {}  # stream -> its entry, while it runs

    def begin(self, stream: str, started_at: float) -> int:
        """Begin a stream's entry now (before its events: ``diary record`` needs the id
        for the kept audio's name); its events then go to this entry."""
        entry = self._entries[stream] = self.diary.begin_entry(stream, started_at)
        return entry

    def write(self, event: Event) -> None:
        entry = self._entries.get(event.stream)
        if entry is None:
            started = getattr(event, "stream_start", None) or time.time()
            entry = self._entries[event.stream] = self.diary.begin_entry(event.stream, started)
        if event.type == "utterance":
            self.diary.add_utterance(entry, event_to_dict(event))
        elif _ends(event):
            self.diary.finish_entry(entry, time.time())
            del self._entries[event.stream]

    @classmethod
    def preflight(cls, *, target: str | None = None, **_options: object) -> None:
        """Before anything loads: a path that cannot become a diary (nothing is created)."""
        path = Path(target).expanduser() if target else default_path()
        if path.is_dir():
            raise DiaryError(f"--sink diary:{target}: {str(path)!r} is a folder: name a file")
        if not path.exists() and (why := cannot_create(path)):
            raise DiaryError(
                f"cannot create the diary {str(path)!r}: {why}; give a --sink diary:PATH in a "
                "folder you can write"
            )

    def close(self) -> None:
        self.diary.close()  # an entry whose stream never ended stays unfinished


def _ends(event: StatusEvent) -> bool:
    """The stream's last status: stopped, or the error that ended it (with counters)."""
    return event.state == "stopped" or (event.state == "error" and bool(event.counters))


@hookimpl
def register_sinks(register):
    register("diary", DiarySink)
