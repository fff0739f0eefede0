"""The ``webrtcvad`` and ``silero`` segmenters: the same utterance logic
(``utterances.py``) over a different per-frame "voiced?" decision (a ``Detector``):
webrtcvad's on 30 ms frames, Silero VAD's speech probability on 32 ms ones (``silero.py``).
"""

from __future__ import annotations

import inspect
from typing import Any

from streamemo.api import hookimpl
from streamemo.default_plugins.vad_segmenter import options, silero
from streamemo.default_plugins.vad_segmenter.detector import WebrtcDetector
from streamemo.default_plugins.vad_segmenter.utterances import UtteranceSegmenter

__all__ = ["SileroSegmenter", "UtteranceSegmenter", "VadSegmenter"]


class VadSegmenter(UtteranceSegmenter):
    """``webrtcvad``: webrtcvad's verdict per frame of ``frame_ms`` (10, 20 or 30)."""

    def __init__(self, aggressiveness: int = 2, frame_ms: int = 30, **shared: Any):
        self.preflight(aggressiveness=aggressiveness, frame_ms=frame_ms, **shared)
        super().__init__(WebrtcDetector(aggressiveness, frame_ms), **shared)

    @staticmethod
    def preflight(*, aggressiveness: object, frame_ms: object, **shared: Any) -> None:
        options.check_webrtcvad(aggressiveness=aggressiveness, frame_ms=frame_ms)
        options.check(**{**SHARED_DEFAULTS, **shared})


class SileroSegmenter(UtteranceSegmenter):
    """``silero``: Silero VAD's speech probability per 32 ms, voiced from ``threshold``."""

    def __init__(self, threshold: float = 0.5, frame_ms: int = silero.FRAME_MS, **shared: Any):
        self.preflight(threshold=threshold, frame_ms=frame_ms, **shared)
        super().__init__(silero.SileroDetector(threshold), **shared)

    @staticmethod
    def preflight(*, threshold: object, frame_ms: object, **shared: Any) -> None:
        silero.check(threshold=threshold, frame_ms=frame_ms)
        options.check(**{**SHARED_DEFAULTS, **shared})
        silero.model_path()  # the package is there (nothing is loaded)


# the shared options' defaults, for a preflight called with only some of them
SHARED_DEFAULTS: dict[str, Any] = {
    name: p.default
    for name, p in inspect.signature(UtteranceSegmenter.__init__).parameters.items()
    if p.default is not p.empty
}


@hookimpl
def register_segmenters(register):
    register("webrtcvad", VadSegmenter)
    register("silero", SileroSegmenter)
