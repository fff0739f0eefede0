"""The ``file`` source: an audio file as a stream, as fast as possible or paced in real time."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from streamemo.api import SAMPLE_RATE, Block, InputError, Source, hookimpl
from streamemo.audio_io import read_blocks


def check_input(input: str | None) -> Path:
    """The input file, readable: a regular file, not a folder (one line otherwise)."""
    if not input:
        raise InputError("the file source needs an input: pass --input FILE")
    path = Path(input)
    if path.is_dir():
        raise InputError(f"input {input!r} is a directory, not an audio file: pass --input FILE")
    if not path.exists():
        raise InputError(f"input file {input!r} not found: check the --input path")
    if not path.is_file():
        raise InputError(f"input {input!r} is not a regular file: pass --input FILE")
    try:
        path.open("rb").close()
    except OSError as exc:
        raise InputError(f"cannot read input file {input!r} ({exc.strerror or exc})") from None
    return path


class FileSource(Source):
    reads_files = True  # --input FILE comes here as input=, --realtime as realtime=

    def __init__(self, input: str | None = None, realtime: bool = False, block_ms: int = 30):
        self.path = check_input(input)
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

    @classmethod
    def preflight(cls, *, input: str | None, **_options: Any) -> None:
        """Before anything loads: the file exists, can be read and its audio decodes."""
        first = read_blocks(check_input(input), block_seconds=0.05)
        try:
            next(first, None)  # the decoder opens the file and reads a first block
        finally:
            first.close()


@hookimpl
def register_sources(register):
    register("file", FileSource)
