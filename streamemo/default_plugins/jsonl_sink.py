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
        # append: a diary file grows across sessions, it is never truncated
        self._file = self.path.open("a", encoding="utf-8")
        self.event_types = None if partials else frozenset({"utterance", "status"})

    def write(self, event: Event) -> None:
        self._file.write(event_to_json(event) + "\n")
        self._file.flush()

    def close(self) -> None:
        self._file.close()


@hookimpl
def register_sinks(register):
    register("jsonl", JsonlSink)
