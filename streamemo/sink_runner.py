"""Sink runners: each sink gets its own bounded queue and thread, so a slow or
failing sink never holds back the pipeline or the other sinks.

Every event a runner is offered is accounted for: written, failed (its ``write``
raised), dropped (the queue was full) or, when the run ends, not delivered (the
sink did not finish within the drain time). Closing never waits longer than
that time, even for a sink whose ``write`` never returns.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

from streamemo.contract import conform
from streamemo.events import Event
from streamemo.factory_options import call_factory
from streamemo.plugins import Registration, Registry
from streamemo.stages import Sink

DEFAULT_QUEUE = 1000


def parse_sink_spec(spec: str) -> tuple[str, str | None]:
    """``console`` -> ("console", None); ``jsonl:out.jsonl`` -> ("jsonl", "out.jsonl")."""
    name, sep, target = spec.partition(":")
    return name.strip(), (target if sep else None)


def sink_factory(
    spec: str, registry: Registry, options: dict[str, dict[str, Any]]
) -> tuple[Registration, dict[str, Any]]:
    """The sink a spec names and the keyword arguments its factory gets: the
    ``[sink.NAME]`` options, and the part after the colon as ``target``."""
    name, target = parse_sink_spec(spec)
    entry = registry.get("sink", name)
    kwargs = dict(options.get(name) or {})
    if target is not None:
        kwargs["target"] = target
    return entry, kwargs


class SinkRunner:
    """One sink on its own thread, behind a bounded queue.

    ``on_error(spec, message)`` is called for the first failed write only (and for a
    failed ``close``); later failures are counted in ``failed``, for one line at the end.
    """

    def __init__(
        self,
        sink: Sink,
        spec: str,
        on_error: Callable[[str, str], None],
        maxsize: int = DEFAULT_QUEUE,
        where: str | None = None,
    ):
        self.spec = spec
        # checked against the contract (one line if it breaks it); a duck-typed sink gets
        # the defaults it lacks (event_types None, close() doing nothing)
        self.sink = conform("sink", sink, where or f"[sink] {spec!r}")
        self.event_types = self.sink.event_types
        self.maxsize = maxsize
        self.accepted = 0  # queued for the sink
        self.written = 0
        self.failed = 0
        self.dropped = 0  # not queued: the queue was full, or the runner was closing
        self._on_error = on_error
        self._pending: deque[Event] = deque()
        self._ready = threading.Condition()
        self._closing = False
        self._abandoned = False  # the drain time is over: write nothing more
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
        entry, kwargs = sink_factory(spec, registry, options)
        sink = call_factory(entry.factory, kwargs, f"sink {entry.name!r}")
        return cls(sink, spec, on_error, where=f"[sink] {entry.name!r} (plugin {entry.plugin!r})")

    def start(self) -> None:
        self._thread.start()

    def offer(self, event: Event) -> None:
        """Queue ``event`` for the sink without ever waiting."""
        if self.event_types is not None and event.type not in self.event_types:
            return
        with self._ready:
            if self._closing or len(self._pending) >= self.maxsize:
                self.dropped += 1  # counted, reported at the end; the others go on
                return
            self._pending.append(event)
            self.accepted += 1
            self._ready.notify()

    @property
    def undelivered(self) -> int:
        """Events queued but neither written nor failed (yet): waiting or being written."""
        with self._ready:
            return self.accepted - self.written - self.failed

    @property
    def lost(self) -> int:
        """Events offered to this sink that it did not get, so far."""
        return self.dropped + self.failed + self.undelivered

    def finish(self) -> None:
        """No more events: the sink writes what is queued, then closes. Never waits."""
        with self._ready:
            self._closing = True
            self._ready.notify()

    def join(self, timeout: float | None) -> bool:
        """Wait up to ``timeout`` for the sink to finish; False: it did not, and it is
        abandoned (it writes nothing more; a write already in progress may still end)."""
        if self._thread.ident is not None:  # started
            self._thread.join(timeout)
        if self._thread.is_alive():
            with self._ready:
                self._abandoned = True
            return False
        return True

    def close(self, timeout: float | None = None) -> bool:
        """``finish``, then ``join``: True when the sink wrote everything and closed."""
        self.finish()
        return self.join(timeout)

    def _next(self) -> Event | None:
        with self._ready:
            while not self._pending and not self._closing:
                self._ready.wait()
            if self._abandoned or not self._pending:
                return None
            return self._pending.popleft()

    def _run(self) -> None:
        while (event := self._next()) is not None:
            try:
                self.sink.write(event)
            except BaseException as exc:  # one bad write (a plugin's sys.exit too) stops nothing
                with self._ready:
                    self.failed += 1
                    first = self.failed == 1
                if first:  # once: a full disk would say the same for every event
                    message = f"{type(exc).__name__}: {exc} (further failures are counted)"
                    self._report(message)
            else:
                with self._ready:
                    self.written += 1
        if self._abandoned:
            return  # the run has left without it: closing now could race its exit
        try:
            self.sink.close()
        except BaseException as exc:
            self._report(f"close failed: {type(exc).__name__}: {exc}")

    def _report(self, message: str) -> None:
        try:
            self._on_error(self.spec, message)
        except Exception:  # stderr gone (a closed pipe, a hung-up terminal): the counts remain
            pass


def close_all(runners: Iterable[SinkRunner], drain_s: float) -> list[SinkRunner]:
    """Let every sink finish within ``drain_s`` in all; returns those that did not."""
    runners = list(runners)
    for runner in runners:
        runner.finish()  # all drain at once: n slow sinks take drain_s, not n * drain_s
    deadline = time.monotonic() + drain_s
    return [r for r in runners if not r.join(max(0.0, deadline - time.monotonic()))]
