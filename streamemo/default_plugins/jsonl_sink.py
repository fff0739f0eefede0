"""The ``jsonl`` sink: one JSON object per line, flushed per event, always appending."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from streamemo.api import ConfigError, Event, Sink, event_to_json, hookimpl
from streamemo.paths import cannot_create


class JsonlSink(Sink):
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

    @classmethod
    def preflight(cls, *, target: str | None, **_options: Any) -> None:
        """Before anything loads: the file can be appended to, or created (with its folders)."""
        if not target:
            raise ConfigError("the jsonl sink needs a file: --sink jsonl:PATH")
        path = Path(target).expanduser()
        if path.is_dir():
            raise ConfigError(
                f"--sink jsonl:{target}: {target!r} is a directory: name a file, "
                f"e.g. --sink jsonl:{path / 'events.jsonl'}"
            )
        if path.exists():
            try:
                path.open("ab").close()  # appends nothing: just what the sink will do
            except OSError as exc:
                raise ConfigError(
                    f"--sink jsonl:{target}: cannot write {target!r} ({exc.strerror or exc}): "
                    "choose another path"
                ) from None
            return
        if why := cannot_create(path):
            raise ConfigError(
                f"--sink jsonl:{target}: cannot create {target!r}: {why}; choose another path"
            )


@hookimpl
def register_sinks(register):
    register("jsonl", JsonlSink)
