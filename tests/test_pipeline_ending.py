"""A run whose analysis dies mid-stream ends with its error instead of hanging.

In-process, with small fake stages: a file-like source of many short utterances and a
text model whose background load fails (the stand-in for weights that were found at
start-up but turn out corrupt). The segmenter then has far more utterances to hand
over than the queue holds, and nobody left to take them.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future

import numpy as np
import pytest

from streamemo.config import load_config
from streamemo.errors import StreamemoError
from streamemo.frames import Block, Transcript, Utterance
from streamemo.loading import Analysers
from streamemo.pipeline import Pipeline
from streamemo.plugins import get_plugin_manager


class ManyBlocks:
    name = "many"
    live = False

    def __init__(self, blocks: int = 3000):
        self.blocks_left = blocks
        self.stopped = threading.Event()

    def blocks(self):
        while self.blocks_left and not self.stopped.is_set():
            self.blocks_left -= 1
            yield Block(np.zeros(480, np.int16), time.monotonic())

    def stop(self) -> None:
        self.stopped.set()


class EveryBlockAnUtterance:
    def __init__(self):
        self.n = 0

    def feed(self, block: Block):
        self.n += 1
        start = self.n * len(block.samples)
        yield Utterance(self.n, start, start + len(block.samples), block.samples, block.arrived)

    def flush(self):
        return iter(())


class Hears:
    def transcribe(self, audio: np.ndarray) -> Transcript:
        time.sleep(0.001)
        return Transcript("hello", "en")


def test_a_model_that_fails_to_load_mid_run_ends_the_run_with_its_error():
    failed = Future()
    failed.set_exception(StreamemoError("[text] 'x' failed to load (simulated)"))
    pipeline = Pipeline(
        load_config(None),
        get_plugin_manager(),
        sinks=[],
        source=ManyBlocks(),
        analysers=Analysers(Hears(), failed, None, None),
    )
    pipeline.segmenter = EveryBlockAnUtterance()
    outcome: dict[str, BaseException] = {}

    def run() -> None:
        try:
            pipeline.run()
        except BaseException as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(20)
    assert not thread.is_alive(), "the run hangs: " + ", ".join(
        sorted(t.name for t in threading.enumerate())
    )
    with pytest.raises(StreamemoError, match="failed to load"):
        raise outcome["error"]
