"""The pipeline's side of the capture process (``streamemo.default_plugins.mic.capture_child``).

A capture that hangs, floods its stderr or crashes is killed and replaced; the pipeline
only sees blocks stop arriving, which the ``mic`` source already handles as a lost device.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import threading
from collections.abc import Callable
from typing import Any

import numpy as np

from streamemo.api import InputError
from streamemo.default_plugins.mic.capture_child import AUDIO, COUNTERS, ERROR, HEADER, OPENED

log = logging.getLogger("streamemo.default_plugins.mic.capture")

# distinct C-library lines logged per capture process; the rest are read and dropped
_QUIET_AFTER = 50


class CaptureProcess:
    """One capture process: started, read on threads of its own, stopped or killed."""

    def __init__(
        self,
        device: str | int | None,
        rate: int,
        block_frames: int,
        on_block: Callable[[np.ndarray, float], None],
        on_counters: Callable[[dict[str, int]], None],
        open_timeout: float = 10.0,
    ):
        self.on_block, self.on_counters = on_block, on_counters
        self.error: str | None = None
        self.info: dict[str, Any] = {}
        self.opened = threading.Event()
        self.done = threading.Event()
        spec = {"device": device, "rate": rate, "block": block_frames}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streamemo.default_plugins.mic.capture_child", json.dumps(spec)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        threading.Thread(target=self._read_frames, name="capture-frames", daemon=True).start()
        threading.Thread(target=self._read_stderr, name="capture-stderr", daemon=True).start()
        if not self.opened.wait(open_timeout):
            self.kill()
            raise InputError(f"the device did not open within {open_timeout:.0f} s")
        if self.error is not None or not self.info:
            self.kill()
            raise InputError(self.error or "the capture process ended before the device opened")

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def running(self) -> bool:
        return not self.done.is_set()

    def stop(self) -> None:
        """Ask for the rest: the process stops its stream, sends what it holds and exits."""
        try:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
        except OSError:
            pass

    def kill(self) -> None:
        """End it whatever state PortAudio is in."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.opened.set()

    def _read_frames(self) -> None:
        stdout = self.proc.stdout
        assert stdout is not None
        try:
            while len(header := stdout.read(HEADER.size)) == HEADER.size:
                kind, size, at = HEADER.unpack(header)
                payload = stdout.read(size)
                if len(payload) < size:
                    break
                if kind == AUDIO:
                    self.on_block(np.frombuffer(payload, np.float32), at)
                elif kind == COUNTERS:
                    self.on_counters(json.loads(payload))
                elif kind == OPENED:
                    self.info = json.loads(payload)
                    self.opened.set()
                elif kind == ERROR:
                    self.error = payload.decode(errors="replace")
        finally:
            self.done.set()
            self.opened.set()

    def _read_stderr(self) -> None:
        """PortAudio and ALSA print straight to stderr; a broken build may print the same
        line forever. Each distinct line is logged once (debug), a flood is read and dropped."""
        stderr = self.proc.stderr
        assert stderr is not None
        seen: set[bytes] = set()
        for line in stderr:
            if len(seen) < _QUIET_AFTER and line.strip() and line not in seen:
                seen.add(line)
                log.debug("capture process: %s", line.decode(errors="replace").rstrip())
