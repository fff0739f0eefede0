"""The ``file`` source: an audio file as a stream, as fast as possible or paced in real time."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

from streamemo import hookimpl
from streamemo.audio_io import read_blocks
from streamemo.errors import InputError
from streamemo.stages import SAMPLE_RATE, Block


class FileSource:
    def __init__(self, input: str | None = None, realtime: bool = False, block_ms: int = 30):
        if not input:
            raise InputError("the file source needs an input: pass --input FILE")
        self.path = Path(input)
        if not self.path.is_file():
            raise InputError(f"input file {input!r} not found: check the --input path")
        self.name = self.path.name
        self.realtime = realtime
        self.live = realtime  # paced like a microphone: live views get level events
        self.block_samples = SAMPLE_RATE * block_ms // 1000
        self._stop = threading.Event()

    def blocks(self) -> Iterator[Block]:
        started = time.monotonic()
        sent = 0
        for chunk in read_blocks(self.path):
            # hand out microphone-sized blocks so real-time pacing is smooth
            for i in range(0, len(chunk), self.block_samples):
                if self._stop.is_set():
                    return
                piece = chunk[i : i + self.block_samples]
                sent += len(piece)
                if self.realtime:
                    delay = started + sent / SAMPLE_RATE - time.monotonic()
                    if delay > 0:
                        self._stop.wait(delay)
                yield Block(piece, time.monotonic())

    def stop(self) -> None:
        self._stop.set()


@hookimpl
def register_sources(register):
    register("file", FileSource)
