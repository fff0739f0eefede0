"""The ``network`` source: audio pushed in by ``streamemo serve``, one source per connection.

``serve`` builds one for each ``/audio`` stream through the registry (``[serve] source``),
decodes the connection's messages (``streamemo.serving.wire``) and hands the samples
over with ``offer``; ``end`` says no more will come. A source for ``serve`` is any source
whose factory takes ``stream`` (the stream's name) and that has these two methods.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator

import numpy as np

from streamemo.api import Block, Source, hookimpl


class NetworkSource(Source):
    """One connection's audio; ``offer`` and ``end`` are called from the server's loop
    thread, ``blocks`` from the pipeline's source thread."""

    live = None  # paced by the client, who may send faster than real time: neither

    def __init__(self, stream: str = "stream", max_blocks: int = 64):
        self.name = stream
        self.counters = {"samples_received": 0}
        self._queue: queue.Queue[Block] = queue.Queue(maxsize=max_blocks)
        self._ended = threading.Event()
        self._stopped = threading.Event()

    def offer(self, samples: np.ndarray) -> bool:
        """Queue samples without waiting; False when full (the caller waits and retries).

        After ``end`` or ``stop`` nothing more is taken (True: nothing to retry)."""
        if not len(samples) or self._ended.is_set():
            return True
        try:
            self._queue.put_nowait(Block(samples, time.monotonic()))
        except queue.Full:
            return False
        self.counters["samples_received"] += len(samples)
        return True

    def end(self) -> None:
        """No more audio: what is queued is still handed out."""
        self._ended.set()

    def stop(self) -> None:
        self._stopped.set()
        self._ended.set()

    def blocks(self) -> Iterator[Block]:
        while not self._stopped.is_set():
            try:
                yield self._queue.get(timeout=0.05)
            except queue.Empty:
                if self._ended.is_set() and self._queue.empty():
                    return


@hookimpl
def register_sources(register):
    register("network", NetworkSource)
