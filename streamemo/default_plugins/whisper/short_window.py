"""Live-word drafts on a window cut to the audio heard so far.

Whisper's encoder is most of a tiny.en decode (about 580 of 800 ms on a 2-core AMD EPYC),
and faster-whisper always runs it on 30 s, the audio padded with silence. CTranslate2
takes a shorter window; Whisper was trained on 30 s only, so a tight window makes it
repeat itself or drop a sentence's start, and a few seconds of silence after the speech
keep it close to the 30 s decode (``benchmarks/drafts.py`` has the figures). Finals keep
the full window: this is for the words shown while someone speaks.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from streamemo.api import SAMPLE_RATE
from streamemo.default_plugins.whisper.packing import WINDOW_S

TOKENS_PER_S = 8  # speech is 3-5 tokens a second; a loop is cut at twice that
MIN_TOKENS = 16


def window_s(samples: int, pad_s: float) -> int | None:
    """The draft's window in whole seconds: the audio plus ``pad_s`` of silence; None
    when that is not shorter than Whisper's own 30 s."""
    seconds = math.ceil(samples / SAMPLE_RATE + pad_s)
    return seconds if pad_s > 0 and seconds < WINDOW_S else None


def decode(
    model: Any, tokenizer: Any, suppress: list[int], audio: np.ndarray, seconds: int, beam: int
) -> tuple[str, float, float]:
    """(text, p(no speech), average log-prob) of ``audio`` (float32) heard on a window of
    ``seconds``; ``model`` is a faster-whisper ``WhisperModel``."""
    import ctranslate2

    window = np.zeros(seconds * SAMPLE_RATE, np.float32)
    window[: len(audio)] = audio
    extractor = model.feature_extractor
    features = extractor(window, padding=0)[:, : len(window) // extractor.hop_length]
    prompt = [*tokenizer.sot_sequence, tokenizer.no_timestamps]
    room = max(MIN_TOKENS, math.ceil(TOKENS_PER_S * len(audio) / SAMPLE_RATE))
    result = model.model.generate(
        ctranslate2.StorageView.from_array(np.ascontiguousarray(features[None])),
        [prompt],
        beam_size=beam,
        max_length=min(model.max_length, len(prompt) + room),
        return_scores=True,
        return_no_speech_prob=True,
        suppress_blank=True,
        suppress_tokens=suppress,
    )[0]
    tokens = [t for t in result.sequences_ids[0] if t < tokenizer.eot]
    avg_logprob = result.scores[0] * len(tokens) / (len(tokens) + 1)  # faster-whisper's
    return tokenizer.decode(tokens).strip(), result.no_speech_prob, avg_logprob
