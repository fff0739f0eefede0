"""Audio for tests: ``int16`` 16 kHz mono arrays, as every stage gets them."""

from __future__ import annotations

import numpy as np

from streamemo.frames import SAMPLE_RATE


def _samples(seconds: float) -> int:
    return max(0, round(seconds * SAMPLE_RATE))


def _int16(signal: np.ndarray, level: float) -> np.ndarray:
    peak = float(np.max(np.abs(signal))) if len(signal) else 0.0
    scaled = signal / peak * level if peak > 0 else signal
    return np.round(np.clip(scaled, -1.0, 1.0) * 32767).astype(np.int16)


def silence(seconds: float) -> np.ndarray:
    """Digital silence."""
    return np.zeros(_samples(seconds), np.int16)


def tone(seconds: float = 1.0, freq: float = 440.0, level: float = 0.3) -> np.ndarray:
    """A sine at ``freq`` Hz, peaking at ``level`` of full scale."""
    t = np.arange(_samples(seconds)) / SAMPLE_RATE
    return _int16(np.sin(2 * np.pi * freq * t), level)


def speechlike(
    seconds: float = 1.0, pitch: float = 140.0, level: float = 0.3, seed: int = 0
) -> np.ndarray:
    """A voice-like sound: a gliding pitch with ten harmonics, in syllables of about
    4 Hz, with a little breath noise. Deterministic for a given ``seed``."""
    rng = np.random.default_rng(seed)
    n = _samples(seconds)
    t = np.arange(n) / SAMPLE_RATE
    f0 = pitch * (1 + 0.08 * np.sin(2 * np.pi * 0.7 * t + rng.uniform(0, 6.28)))
    phase = 2 * np.pi * np.cumsum(f0) / SAMPLE_RATE
    voice = sum(np.sin(k * phase) / k for k in range(1, 11))
    syllables = 0.55 + 0.45 * np.sin(2 * np.pi * 4.0 * t + rng.uniform(0, 6.28))
    signal = voice * syllables + 0.02 * rng.standard_normal(n)
    return _int16(signal, level)


def utterances(*seconds: float, gap_s: float = 0.8, level: float = 0.3) -> np.ndarray:
    """Speech-like stretches of the given lengths, with ``gap_s`` of silence before,
    between and after them: ``utterances(1.0, 1.5)`` holds two utterances."""
    parts = [silence(gap_s)]
    for i, length in enumerate(seconds):
        parts += [speechlike(length, pitch=120.0 + 15 * i, level=level, seed=i), silence(gap_s)]
    return np.concatenate(parts)
