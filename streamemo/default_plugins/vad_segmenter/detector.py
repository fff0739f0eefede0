"""The per-frame "voiced?" decision the segmenter's utterance logic is built on.

A detector works on frames of its own size (``frame_ms``) and keeps whatever state it
needs between them: one detector per stream, fed every frame in order. webrtcvad's is
here; Silero's is ``silero.py``.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from streamemo.api import SAMPLE_RATE


class Detector(Protocol):
    frame_ms: int

    def is_speech(self, samples: np.ndarray) -> bool:
        """Whether this frame (``frame_ms`` of int16 samples) is speech."""
        ...


class WebrtcDetector:
    """webrtcvad's verdict on 10, 20 or 30 ms frames."""

    def __init__(self, aggressiveness: int = 2, frame_ms: int = 30):
        import webrtcvad

        self.vad = webrtcvad.Vad(aggressiveness)
        self.frame_ms = frame_ms

    def is_speech(self, samples: np.ndarray) -> bool:
        return self.vad.is_speech(samples.tobytes(), SAMPLE_RATE)
