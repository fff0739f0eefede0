"""Emission: every event to the ``streamemo_event`` observers and to every sink; the
run's counters; errors reported as status events and stderr lines; and, at the end,
one line for each sink or observer that did not get every event.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from typing import IO, Any

import pluggy

from streamemo.events import Event, StatusEvent, UtteranceEvent
from streamemo.sink_runner import SinkRunner

log = logging.getLogger("streamemo")


def new_counters() -> dict[str, Any]:
    return {
        "utterances": 0,
        "partials": 0,
        "errors": 0,
        "partials_skipped": 0,
        "skipped_no_speech": 0,  # utterances with no words and no confident voice
        "skipped_no_speech_s": 0.0,  # and their seconds of audio
    }


class Emission:
    """One stream's output side. Thread-safe: every stage thread emits and counts."""

    def __init__(self, stream: str, pm: pluggy.PluginManager, stderr: IO[str]):
        self.stream = stream
        self.pm = pm
        self.stderr = stderr
        self.sinks: list[SinkRunner] = []
        self.counters = new_counters()
        self.events_lost = 0  # events a sink or observer did not get: the run exits 1
        self._lock = threading.Lock()
        self._observer_failures: dict[str, int] = {}  # plugin -> streamemo_event failures
        self._events = 0

    def emit(self, event: Event, ended_at: float | None = None) -> None:
        """Hand an event to the observers and every sink; ``ended_at`` (the monotonic
        time the utterance ended) stamps its latency, the moment it leaves."""
        if ended_at is not None and isinstance(event, UtteranceEvent):
            event.latency_ms = (time.monotonic() - ended_at) * 1000.0
        self._observe(event)
        for sink in self.sinks:
            sink.offer(event)

    def count(self, key: str, n: float = 1) -> None:
        with self._lock:
            value = self.counters.get(key, 0) + n
            self.counters[key] = round(value, 2) if isinstance(value, float) else value

    def report_error(self, where: str, exc: BaseException, emit: bool = True) -> None:
        """A stage failed on one item: counted, logged, and (``emit``) a status event."""
        self.count("errors")
        message = f"{where}: {type(exc).__name__}: {exc}"
        log.warning("%s", message)
        if emit:
            self.emit(StatusEvent(self.stream, "error", message=message))

    def sink_error(self, spec: str, message: str) -> None:
        """A sink's first failed write (later ones are counted by its runner) or close."""
        self.count("errors")
        self.say(f"sink {spec!r} failed: {message}")

    def say(self, message: str) -> None:
        """One whole line on stderr: sinks fail on threads of their own, at the same time."""
        with self._lock:
            self.stderr.write(f"streamemo: {message}\n")
            self.stderr.flush()

    def _observe(self, event: Event) -> None:
        """Every ``streamemo_event`` observer, each on its own: one that raises neither
        stops the others nor the sinks. Its first error is logged; the rest are counted."""
        with self._lock:
            self._events += 1
        hook = self.pm.hook.streamemo_event
        impls = hook.get_hookimpls()
        if any(impl.hookwrapper or impl.wrapper for impl in impls):
            calls = [("streamemo_event", lambda: hook(event=event))]  # pluggy's own order
        else:  # in pluggy's order (last registered first), each on its own
            calls = [
                (impl.plugin_name, functools.partial(impl.function, *[event] * len(impl.argnames)))
                for impl in reversed(impls)
            ]
        for plugin, call in calls:
            try:
                call()
            except Exception as exc:
                with self._lock:
                    failures = self._observer_failures.get(plugin, 0) + 1
                    self._observer_failures[plugin] = failures
                    self.counters["errors"] += 1
                if failures == 1:
                    log.warning(
                        "streamemo_event observer %r failed: %s: %s (further failures are counted)",
                        plugin,
                        type(exc).__name__,
                        exc,
                    )

    def report_losses(self, unfinished: list[SinkRunner], drain_s: float) -> int:
        """One line per sink or observer that did not get every event; sets and returns
        ``events_lost``. ``unfinished``: the sinks that did not finish within ``drain_s``."""
        lost = 0
        for sink in self.sinks:
            if sink in unfinished:  # a sink thread that died leaves its queue too
                self.say(
                    f"sink {sink.spec!r} did not finish: {sink.undelivered} events not delivered"
                    f" (waited {drain_s:g} s: pipeline.drain_s)"
                )
            parts = [
                f"{n} {what}"
                for n, what in (
                    (sink.failed, "writes failed"),
                    (sink.dropped, "dropped: its queue was full"),
                )
                if n
            ]
            if parts:
                self.say(
                    f"sink {sink.spec!r} lost {sink.failed + sink.dropped} events"
                    f" ({', '.join(parts)})"
                )
            lost += sink.lost
        for plugin, failures in self._observer_failures.items():
            self.say(
                f"streamemo_event observer {plugin!r} failed on {failures} of {self._events} events"
            )
            lost += failures
        self.events_lost = lost
        return lost
