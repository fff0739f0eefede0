"""Calls from many streams to one shared model, run together.

Every ``serve`` stream calls the shared transcriber, text and voice analysers from its own
pipeline thread. Here those calls wait in one queue, and a worker takes every waiting
call of the same kind (up to ``max_items`` inputs) into one ``*_many`` call: Whisper packs
utterances of different speakers into one 30 s window (its encoder costs the same for 3 s
or 30 s), the text and voice models run them as one batch. A free worker waits
``window_s`` for company first; while the model is busy the queue fills by itself, so
batches grow with the load and cost no wait. ``slots`` workers run at once (Whisper's
``num_workers``); every other call (a partial's ``analyse_latest``) takes its turn in
the same queue. Background calls (live words, speculations: ``streamemo.priority``) run
only when no other call waits, and batch among themselves; a speculation promoted while
it waits runs as foreground, and one withdrawn while it waits is never run (its caller
gets ``Withdrawn``).

A batch that fails, or returns the wrong number of results, is retried call by call:
one stream's bad utterance costs only its own result, and the error goes back to the
stream that sent it.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from streamemo.priority import Urgency, Withdrawn, current

BUSY_WINDOW_S = 3.0  # busy_share looks this far back: a few utterances' worth

# one-input methods of the stage contract, and the method that takes many of them
BATCHED = {
    "transcribe": "transcribe_many",
    "transcribe_span": "transcribe_span_many",
    "analyse": "analyse_many",
}
SINGLE = {many: one for one, many in BATCHED.items()}


@dataclass(eq=False)
class _Call:
    target: Any
    method: str  # a *_many method when ``items`` is set
    items: list | None = None  # batched: the inputs
    single: bool = False  # made from a one-input method: its result is the first
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    queued: float = field(default_factory=time.monotonic)
    urgency: Urgency | None = field(default_factory=current)  # the caller's thread's
    done: threading.Event = field(default_factory=threading.Event)
    result: Any = None
    error: BaseException | None = None

    @property
    def background(self) -> bool:
        return self.urgency is not None and self.urgency.background

    @property
    def withdrawn(self) -> bool:
        return self.urgency is not None and self.urgency.withdrawn

    def kind(self) -> tuple[int, str, bool] | None:
        """Calls of one kind run together; a plain call runs alone."""
        return None if self.items is None else (id(self.target), self.method, self.background)

    def finish(self, result: Any = None, error: BaseException | None = None) -> None:
        self.result, self.error = result, error
        self.done.set()


@dataclass
class Tally:
    """What one kind of call did: calls made by streams, inputs, model runs, largest run."""

    calls: int = 0
    items: int = 0
    runs: int = 0
    largest: int = 0

    def __str__(self) -> str:
        return f"{self.items} in {self.runs} runs (largest {self.largest})"


class Batches:
    """The queue and workers that one shared model's calls go through."""

    def __init__(self, name: str, slots: int = 1, window_s: float = 0.0, max_items: int = 8):
        self.name = name
        self.slots = max(1, slots)
        self.window_s = max(0.0, window_s)
        self.max_items = max(1, max_items)
        self.tallies: dict[str, Tally] = {}
        self._queue: deque[_Call] = deque()
        self._ready = threading.Condition()
        self._workers: list[threading.Thread] = []
        self._ran: deque[tuple[float, float]] = deque()  # (start, end) of recent runs
        self._running: dict[int, float] = {}  # worker -> start of its run now

    def call(self, call: _Call) -> Any:
        """Run ``call`` with whatever else is waiting; its own result, or its own error."""
        with self._ready:
            self._queue.append(call)
            self._ready.notify()
            if len(self._workers) < self.slots:  # started on first use: no idle threads
                worker = threading.Thread(
                    target=self._work, name=f"shared-{self.name}", daemon=True
                )
                self._workers.append(worker)
                worker.start()
        call.done.wait()
        if call.error is not None:
            raise call.error
        return call.result

    def _work(self) -> None:
        me = threading.get_ident()
        while True:
            with self._ready:
                batch = self._next()
                self._running[me] = time.monotonic()
            try:
                self._run(batch)
            finally:
                with self._ready:
                    self._ran.append((self._running.pop(me), time.monotonic()))

    def busy_share(self) -> float:
        """How much of the last ``BUSY_WINDOW_S`` the workers spent running calls (0-1)."""
        now = time.monotonic()
        since = now - BUSY_WINDOW_S
        with self._ready:
            while self._ran and self._ran[0][1] <= since:
                self._ran.popleft()
            runs = [*self._ran, *((start, now) for start in self._running.values())]
            busy = sum(end - max(start, since) for start, end in runs)
        return min(1.0, busy / (BUSY_WINDOW_S * self.slots))

    def _next(self) -> list[_Call]:
        while True:
            self._drop_withdrawn()
            while not self._queue:
                self._ready.wait()
                self._drop_withdrawn()
            first = self._first()
            if first.kind() is not None and self.window_s and not first.background:
                deadline = first.queued + self.window_s
                while (left := deadline - time.monotonic()) > 0 and self._waiting(first) < (
                    self.max_items
                ):
                    self._ready.wait(left)
                self._drop_withdrawn()
                if first not in self._queue:
                    continue  # another worker took it meanwhile, or it was withdrawn
            return self._take(first)

    def _drop_withdrawn(self) -> None:
        for call in [c for c in self._queue if c.withdrawn]:
            self._queue.remove(call)
            call.finish(error=Withdrawn())

    def _first(self) -> _Call:
        """The oldest foreground call, else the oldest call."""
        return next((c for c in self._queue if not c.background), self._queue[0])

    def _waiting(self, first: _Call) -> int:
        kind = first.kind()
        return sum(len(c.items or ()) for c in self._queue if c.kind() == kind)

    def _take(self, first: _Call) -> list[_Call]:
        """``first`` and the calls of its kind behind it, up to ``max_items`` inputs."""
        self._queue.remove(first)
        kind, batch, items = first.kind(), [first], len(first.items or ())
        if kind is None:
            return batch
        rest: deque[_Call] = deque()
        while self._queue:
            call = self._queue.popleft()
            if call.kind() == kind and items + len(call.items) <= self.max_items:
                batch.append(call)
                items += len(call.items)
            else:
                rest.append(call)
        self._queue = rest
        return batch

    def _run(self, batch: list[_Call]) -> None:
        first = batch[0]
        if len(batch) == 1:
            self._alone(first)
            return
        items = [item for call in batch for item in call.items]
        try:
            results = list(getattr(first.target, first.method)(items))
            if len(results) != len(items):
                raise ValueError(f"returned {len(results)} results for {len(items)} inputs")
        except Exception:
            for call in batch:  # each on its own: an error reaches its own stream only
                self._alone(call)
            return
        self._count(first.method, batch, len(items))
        at = 0
        for call in batch:
            mine = results[at : at + len(call.items)]
            at += len(call.items)
            call.finish(mine[0] if call.single else mine)

    def _alone(self, call: _Call) -> None:
        """One call as its stream made it (``transcribe(x)``, not ``transcribe_many([x])``)."""
        try:
            if call.items is None:
                result = getattr(call.target, call.method)(*call.args, **call.kwargs)
            elif call.single:
                result = getattr(call.target, SINGLE[call.method])(call.items[0])
            else:
                result = getattr(call.target, call.method)(call.items)
        except BaseException as exc:
            call.finish(error=exc)
            return
        if call.items is not None:
            self._count(call.method, [call], len(call.items))
        call.finish(result)

    def _count(self, method: str, batch: list[_Call], items: int) -> None:
        with self._ready:
            tally = self.tallies.setdefault(SINGLE.get(method, method), Tally())
            tally.calls += len(batch)
            tally.items += items
            tally.runs += 1
            tally.largest = max(tally.largest, items)

    def summary(self) -> str:
        """``transcribe 40 in 17 runs (largest 4)``, one part per kind of call."""
        with self._ready:
            return ", ".join(f"{method} {tally}" for method, tally in self.tallies.items())


class Coalesced:
    """A shared stage whose calls go through ``batches``: one-input calls join the others
    waiting, every other call takes its turn. Looks like the stage to its callers."""

    def __init__(self, target: Any, batches: Batches):
        self._target = target
        self.batches = batches

    def busy_share(self) -> float:
        """How busy the shared model has been lately (``Batches.busy_share``)."""
        return self.batches.busy_share()

    def like(self, target: Any) -> Coalesced:
        """Another stage in the same queue (a stream's own voice baseline): it takes
        turns with this one, and batches with calls to itself."""
        return Coalesced(target, self.batches)

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._target, name)
        if not callable(attr):
            return attr
        target, batches = self._target, self.batches
        many = BATCHED.get(name)
        if many is not None and callable(getattr(target, many, None)):
            return lambda item: batches.call(_Call(target, many, [item], single=True))
        if name in SINGLE:
            return lambda items: batches.call(_Call(target, name, list(items)))
        return lambda *args, **kwargs: batches.call(_Call(target, name, None, False, args, kwargs))
