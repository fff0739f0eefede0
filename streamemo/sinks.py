"""Sink runners: each sink gets its own bounded queue and thread, so a slow or
failing sink never holds back the pipeline or the other sinks."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any

from streamemo.config import call_factory
from streamemo.events import Event
from streamemo.plugins import Registry
from streamemo.stages import Sink

_STOP = object()


def parse_sink_spec(spec: str) -> tuple[str, str | None]:
    """``console`` -> ("console", None); ``jsonl:out.jsonl`` -> ("jsonl", "out.jsonl")."""
    name, sep, target = spec.partition(":")
    return name.strip(), (target if sep else None)


class SinkRunner:
    def __init__(
        self,
        sink: Sink,
        spec: str,
        on_error: Callable[[str, str], None],
        maxsize: int = 1000,
    ):
        self.spec = spec
        self.sink = sink
        self.event_types = getattr(sink, "event_types", None)
        self.dropped = 0
        self.failed = 0
        self._on_error = on_error
        self._queue: queue.Queue = queue.Queue(maxsize=maxsize)
        self._thread = threading.Thread(target=self._run, name=f"sink-{spec}", daemon=True)

    @classmethod
    def from_spec(
        cls,
        spec: str,
        registry: Registry,
        options: dict[str, dict[str, Any]],
        on_error: Callable[[str, str], None],
    ) -> SinkRunner:
        """``jsonl:out.jsonl``: the ``jsonl`` sink with its ``[sink.jsonl]`` options."""
        name, target = parse_sink_spec(spec)
        entry = registry.get("sink", name)
        kwargs = dict(options.get(name, {}))
        if target is not None:
            kwargs["target"] = target
        return cls(call_factory(entry.factory, kwargs, f"sink {name!r}"), spec, on_error)

    def start(self) -> None:
        self._thread.start()

    def offer(self, event: Event) -> None:
        if self.event_types is not None and event.type not in self.event_types:
            return
        try:
            self._queue.put_nowait(event)
        except queue.Full:
            self.dropped += 1  # counted, reported in the final status; others go on

    def close(self, timeout: float | None = None) -> None:
        self._queue.put(_STOP)
        self._thread.join(timeout)

    def _run(self) -> None:
        while (event := self._queue.get()) is not _STOP:
            try:
                self.sink.write(event)
            except Exception as exc:  # one bad write must not stop the others
                self.failed += 1
                self._on_error(self.spec, f"{type(exc).__name__}: {exc}")
        try:
            self.sink.close()
        except Exception as exc:
            self._on_error(self.spec, f"close failed: {type(exc).__name__}: {exc}")
