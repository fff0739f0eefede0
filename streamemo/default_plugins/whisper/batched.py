"""Several packed windows decoded as one batch.

A pack of six utterances spends most of its time in the decoder, one token after the
other. Two or more packs decoded together (CTranslate2 beam search over a batch) share
those steps: on a 2-core AMD EPYC, 12 utterances in 2 packs took 2.0-2.3 s as one batch
against 3.0-3.5 s one pack after the other (``benchmarks/whisper_packs.py``). Each pack
keeps its own 30 s window, so its encoder input is what it is alone.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np

from streamemo.api import SAMPLE_RATE
from streamemo.default_plugins.whisper.packing import WINDOW_S

FRAMES_PER_WINDOW = 3000  # Whisper's mel frames in 30 s: a segment's seek says its window


def hear_windows(
    model: Any, audios: Sequence[np.ndarray], **options: Any
) -> tuple[list[list[Any]], Any]:
    """Every window's faster-whisper segments (with word timestamps), timed from the
    window's own start, and the transcription info. ``audios``: float32, each at most
    30 s; ``model``: a ``WhisperModel``; ``options``: ``BatchedInferencePipeline``'s."""
    from faster_whisper import BatchedInferencePipeline

    stride = round(WINDOW_S * SAMPLE_RATE)
    # one window every 30 s of a silent buffer; each clip is the window's audio alone
    buffer = np.zeros(stride * len(audios), np.float32)
    clips = []
    for k, audio in enumerate(audios):
        buffer[k * stride : k * stride + len(audio)] = audio
        clips.append({"start": k * WINDOW_S, "end": k * WINDOW_S + len(audio) / SAMPLE_RATE})
    # a pipeline per call: it keeps state between windows, and serve's workers share model
    segments, info = BatchedInferencePipeline(model).transcribe(
        buffer,
        clip_timestamps=clips,
        batch_size=len(audios),
        vad_filter=False,
        without_timestamps=False,
        word_timestamps=True,
        condition_on_previous_text=False,
        **options,
    )
    heard: list[list[Any]] = [[] for _ in audios]
    for segment in segments:
        k = segment.seek // FRAMES_PER_WINDOW
        heard[k].append(_shifted(segment, -k * WINDOW_S))
    return heard, info


def _shifted(segment: Any, by: float) -> Any:
    words = [
        dataclasses.replace(w, start=w.start + by, end=w.end + by) for w in segment.words or ()
    ]
    return dataclasses.replace(segment, start=segment.start + by, end=segment.end + by, words=words)
