"""A neutral baseline the seed's way, over the windows the voice model will see.

The seed's recipe (../shared/spec/SEED.md): the mean MFCC vector of each neutral
utterance's 100-frame window; ``mean`` and ``std`` are the mean and standard deviation of
those vectors. Its presets are made so: their stds (12 for c0) are those of window means,
not of frames (about 150 for c0 in speech). The model was trained on deltas against such
baselines, so a personal one must spread the same way, or every delta it gives would be
ten times smaller than any the model has seen.

One recording stands in for the seed's ~15 utterances: each utterance, as the segmenter
cuts it, gives the model's own windows (100 frames, every 50 frames: ``hop_frames``'s
default), and each window's mean over its frames is one vector.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from streamemo.default_plugins.voice_emotion.mfcc import N_MFCC, mfcc_many
from streamemo.default_plugins.voice_emotion.model import WINDOW_FRAMES, window_starts

HOP_FRAMES = WINDOW_FRAMES // 2  # as the model's windows by default (audio.hop_frames = 50)
MIN_WINDOWS = 3  # a spread needs a few


@dataclass(frozen=True)
class Baseline:
    mean: np.ndarray  # (13,)
    std: np.ndarray  # (13,)
    windows: int  # the window means they were taken over


def window_means(utterances: Sequence[np.ndarray], hop: int = HOP_FRAMES) -> np.ndarray:
    """(n, 13): the mean MFCC frame of each window of each utterance (a short utterance is
    one window of its own frames: the model's zero padding is not speech)."""
    means = []
    for frames in mfcc_many(list(utterances)):
        for start in window_starts(len(frames), hop):
            means.append(frames[start : start + WINDOW_FRAMES].astype(np.float64).mean(axis=0))
    return np.array(means, dtype=np.float64).reshape(-1, N_MFCC)


def measure(utterances: Sequence[np.ndarray]) -> Baseline:
    """The baseline of these (neutral) utterances."""
    means = window_means(utterances)
    if len(means) < MIN_WINDOWS:
        raise ValueError(f"{len(means)} windows: a baseline needs {MIN_WINDOWS} at least")
    return Baseline(means.mean(axis=0), means.std(axis=0), len(means))
