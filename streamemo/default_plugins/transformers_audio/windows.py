"""Sliding windows over utterances, and how they are grouped into forward passes."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from streamemo.api import SAMPLE_RATE

# shorter audio is padded with silence to this: below some hundreds of samples the
# convolutional front end of wav2vec2-style models has no frame to give (400 for base)
MIN_SAMPLES = SAMPLE_RATE // 10


def spans(samples: int, window: int, hop: int) -> list[tuple[int, int]]:
    """(start, end) of each window: 0, hop, 2*hop... and a last one flush with the end, so
    every sample is in some window and every window is full length; a short utterance
    is one window of its own length."""
    if samples <= window:
        return [(0, samples)]
    last = samples - window
    starts = list(range(0, last + 1, hop))
    if starts[-1] != last:
        starts.append(last)
    return [(start, start + window) for start in starts]


def to_float(audio: np.ndarray) -> np.ndarray:
    """int16 (the pipeline's audio) as float32 in [-1, 1]; at least ``MIN_SAMPLES`` long."""
    floats = np.asarray(audio, dtype=np.float32)
    if np.asarray(audio).dtype == np.int16:
        floats = floats / 32768.0
    if len(floats) < MIN_SAMPLES:
        floats = np.concatenate([floats, np.zeros(MIN_SAMPLES - len(floats), np.float32)])
    return floats


def cut(audio: np.ndarray, window: int, hop: int) -> list[np.ndarray]:
    floats = to_float(audio)
    return [floats[start:end] for start, end in spans(len(floats), window, hop)]


def batches(windows: Sequence[np.ndarray], max_batch: int, mixed: bool) -> list[list[int]]:
    """Indices of the windows, one list per forward pass of at most ``max_batch``.

    ``mixed``: the model takes an attention mask, so windows of any length pad into one
    pass; else each pass holds windows of one length (padding would change what a model
    without a mask reads). Full-length windows all have one length, so a batch of long
    utterances is one pass either way, short ones add a pass per length without a mask.
    """
    if mixed:
        groups = [list(range(len(windows)))]
    else:
        by_length: dict[int, list[int]] = {}
        for i, window in enumerate(windows):
            by_length.setdefault(len(window), []).append(i)
        groups = list(by_length.values())
    return [group[i : i + max_batch] for group in groups for i in range(0, len(group), max_batch)]
