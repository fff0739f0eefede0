"""What every stream of ``serve`` shares: the models, and the sinks of ``[serve] sinks``."""

from __future__ import annotations

import sys
import threading
from typing import Any

from streamemo.errors import StreamemoError, one_line
from streamemo.events import Event
from streamemo.loading import Analysers
from streamemo.plugins import Registry
from streamemo.serving.coalesce import Batches, Coalesced
from streamemo.sink_runner import SinkRunner, close_all
from streamemo.stages import Sink


def shared_analysers(analysers: Analysers, window_s: float = 0.0, max_items: int = 1) -> Analysers:
    """The models every stream uses, each behind a queue of its own (``coalesce.py``).

    Whole calls take turns: concurrent calls that interleave inside Whisper (or torch,
    whose threads then compete for the same cores) make every stream late at once.
    Whisper runs ``transcriber.num_workers`` transcriptions side by side; a tokenizer is
    not thread-safe, so text goes one at a time. Calls waiting together go through as one
    batch of at most ``max_items`` (1: each alone), after ``window_s`` for company."""

    def queue(kind: str, stage: Any, slots: int = 1) -> Any:
        if stage is None:
            return None
        return Coalesced(stage, Batches(kind, slots, window_s, max_items))

    transcriber = analysers.transcriber  # conformed: num_workers is always there
    workers = transcriber.num_workers if transcriber is not None else 1
    return Analysers(
        transcriber=queue("transcriber", transcriber, workers),
        text=queue("text", analysers.text),
        audio=queue("audio", analysers.audio),
        fuser=analysers.fuser,  # a few multiplications, no shared state
    )


def batch_summary(analysers: Analysers) -> str:
    """What the shared queues ran: ``transcriber: transcribe 40 in 17 runs (largest 4)``."""
    parts = []
    for stage in (analysers.transcriber, analysers.text, analysers.audio):
        batches = getattr(stage, "batches", None)
        if batches is not None and (summary := batches.summary()):
            parts.append(f"{batches.name}: {summary}")
    return "; ".join(parts)


class _Offered(Sink):
    """A stream's way into a shared sink: hands each event to the sink's runner, never
    waits, and leaves the closing to ``serve`` (the other streams still write to it)."""

    def __init__(self, runner: SinkRunner):
        self.runner = runner
        self.event_types = runner.event_types

    def write(self, event: Event) -> None:
        self.runner.offer(event)

    def close(self) -> None:
        pass


class SharedSinks:
    """The sinks of ``[serve] sinks``, built once through the registry (with their
    ``[sink.NAME]`` tables), each on its own runner; every stream offers its events to
    all of them, and ``close`` finishes them when ``serve`` ends."""

    def __init__(self, specs: list[str], registry: Registry, options: dict[str, Any]):
        self._lock = threading.Lock()
        self.runners: list[SinkRunner] = []
        for spec in specs:
            try:
                runner = SinkRunner.from_spec(spec, registry, options, self._error)
            except Exception as exc:
                self.close(0)  # those built already
                if isinstance(exc, StreamemoError):
                    raise
                raise StreamemoError(f"sink {spec!r} failed to start: {one_line(exc)}") from exc
            runner.start()
            self.runners.append(runner)

    def for_stream(self) -> list[Sink]:
        """One stream's sinks: each hands its events to the shared one."""
        return [_Offered(runner) for runner in self.runners]

    def close(self, drain_s: float) -> int:
        """Let every sink write what it was given within ``drain_s``, then close it; one
        line per sink that lost events. Returns how many were lost."""
        unfinished = close_all(self.runners, drain_s)
        lost = 0
        for runner in self.runners:
            undelivered = runner.undelivered
            if runner in unfinished:
                self._say(
                    f"sink {runner.spec!r} did not finish: {undelivered} events not delivered"
                    f" (waited {drain_s:g} s: pipeline.drain_s)"
                )
            if runner.failed or runner.dropped:
                self._say(
                    f"sink {runner.spec!r} lost {runner.failed + runner.dropped} events"
                    f" ({runner.failed} writes failed, {runner.dropped} dropped)"
                )
            lost += runner.failed + runner.dropped + undelivered
        return lost

    def _error(self, spec: str, message: str) -> None:
        self._say(f"sink {spec!r} failed: {message}")

    def _say(self, message: str) -> None:
        with self._lock:  # sinks fail on threads of their own: one whole line each
            sys.stderr.write(f"streamemo: {message}\n")
            sys.stderr.flush()
