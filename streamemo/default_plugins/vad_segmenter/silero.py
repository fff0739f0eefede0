"""Silero VAD as the segmenter's detector: a speech probability per 32 ms, on CPU.

The model is the ONNX file that the ``silero-vad`` package bundles (MIT), run with
onnxruntime; nothing is downloaded and torch is not imported (``silero_vad`` itself
imports torch, so only its folder is looked up, never the module run). The network is
recurrent: each call takes 512 new samples (32 ms at 16 kHz) after the last 64 samples of
the call before (its context) and the state the last call returned, so the chunks of
one stream go through it in order, one detector per stream.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from streamemo.api import SAMPLE_RATE, ConfigError
from streamemo.model_files import package_dir

CHUNK = 512  # samples per call at 16 kHz: the only size the model takes
CONTEXT = 64  # samples of the call before, prepended to each chunk (Silero v5+)
FRAME_MS = CHUNK * 1000 // SAMPLE_RATE  # 32
MODEL = "silero_vad.onnx"


def model_path() -> Path:
    """The bundled ONNX file, found without importing silero_vad (which imports torch)."""
    root = package_dir("silero_vad")
    if root is not None and (root / "data" / MODEL).is_file():
        return root / "data" / MODEL
    raise ConfigError(
        "segmenter 'silero' needs the silero-vad package (its bundled model): "
        "pip install silero-vad, or use -o segmenter.name=webrtcvad"
    )


def check(*, threshold: object, frame_ms: object) -> None:
    """One ``ConfigError`` line for a Silero option out of its range."""
    if frame_ms != FRAME_MS:
        raise ConfigError(
            f"segmenter.frame_ms must be {FRAME_MS} for silero (it takes {CHUNK} samples at "
            f"16 kHz), not {frame_ms}: leave frame_ms out"
        )
    ok = isinstance(threshold, int | float) and not isinstance(threshold, bool)
    if not ok or not 0 < threshold < 1:
        raise ConfigError(
            f"segmenter.threshold must be a speech probability between 0 and 1 "
            f"(0.5 by default), not {threshold!r}"
        )


@cache
def _session() -> Any:
    """One inference session for every stream: onnxruntime's ``run`` is thread-safe, and
    each detector keeps its own state. One thread: Whisper and the voice model need the rest."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    return onnxruntime.InferenceSession(
        str(model_path()), sess_options=options, providers=["CPUExecutionProvider"]
    )


class SileroDetector:
    """Whether each 32 ms chunk is speech: Silero's probability at least ``threshold``."""

    frame_ms = FRAME_MS

    def __init__(self, threshold: float = 0.5):
        self.threshold = float(threshold)
        self.session = _session()
        self._input = np.zeros((1, CONTEXT + CHUNK), np.float32)  # context, then the chunk
        self._state = np.zeros((2, 1, 128), np.float32)
        self._rate = np.array(SAMPLE_RATE, np.int64)
        self.probability = 0.0  # of the last chunk

    def is_speech(self, samples: np.ndarray) -> bool:
        x = self._input
        x[0, :CONTEXT] = x[0, -CONTEXT:]  # the last call's final samples
        x[0, CONTEXT:] = samples
        x[0, CONTEXT:] *= 1 / 32768  # int16 to [-1, 1), as the model was trained
        out, self._state = self.session.run(
            None, {"input": x, "state": self._state, "sr": self._rate}
        )
        self.probability = float(out[0, 0])
        return self.probability >= self.threshold
