"""The ``jsonl`` sink: one JSON object per line, flushed per event, always appending."""

from __future__ import annotations

from pathlib import Path

from streamemo import hookimpl
from streamemo.errors import ConfigError
from streamemo.events import Event, event_to_json


class JsonlSink:
    def __init__(self, target: str | None = None, partials: bool = False):
        if not target:
            raise ConfigError("the jsonl sink needs a file: --sink jsonl:PATH")
        self.path = Path(target).expanduser()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # append: a diary file grows across sessions, it is never truncated. Unbuffered:
        # a line is on disk when write returns, and a write that fails (a full disk)
        # leaves nothing behind to be written twice, or half, by the next one.
        self._file = self.path.open("ab", buffering=0)
        self.event_types = None if partials else frozenset({"utterance", "status"})

    def write(self, event: Event) -> None:
        line = memoryview((event_to_json(event) + "\n").encode("utf-8"))
        while line:  # a raw write may take only part of it
            line = line[self._file.write(line) :]

    def close(self) -> None:
        self._file.close()


@hookimpl
def register_sinks(register):
    register("jsonl", JsonlSink)
