"""Level metering: the input's loudness, a tenth of a second at a time, for live views.

Only a live source (``Source.live is True``: a microphone) is metered: a file read as
fast as it decodes would flood the sinks with levels nobody can watch.
"""

from __future__ import annotations

import numpy as np

from streamemo.events import LevelEvent
from streamemo.frames import SAMPLE_RATE, Block

LEVEL_INTERVAL_S = 0.1  # live views redraw their level meter ten times a second
SILENCE_RMS = 1e-5  # digital silence reads as -100 dBFS, not minus infinity


class LevelMeter:
    """Feed it every block in order; every ``interval_s`` of audio it returns one
    ``LevelEvent`` (RMS in dBFS over that stretch, and whether speech was going on)."""

    def __init__(self, stream: str, interval_s: float = LEVEL_INTERVAL_S):
        self.stream = stream
        self.every = int(SAMPLE_RATE * interval_s)
        self.heard = 0  # samples metered so far: the events' audio clock
        self._energy = 0.0
        self._samples = 0

    def feed(self, block: Block, speaking: bool) -> LevelEvent | None:
        self._energy += float(np.square(block.samples, dtype=np.float64).sum())
        self._samples += len(block.samples)
        if self._samples < self.every:
            return None
        self.heard += self._samples
        rms = np.sqrt(self._energy / self._samples) / 32768.0
        self._energy, self._samples = 0.0, 0
        return LevelEvent(
            self.stream,
            self.heard / SAMPLE_RATE,
            float(20 * np.log10(max(rms, SILENCE_RMS))),
            bool(speaking),
        )
