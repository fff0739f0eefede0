"""The speech of a calibration recording, as the pipeline's segmenter cuts it, and the
checks that it can make a baseline: enough of it, not clipped, not too quiet."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from streamemo.errors import InputError
from streamemo.frames import SAMPLE_RATE, Block, Utterance

MIN_SPEECH_S = 10.0  # three windows of the model's at the least; the seed used ~15 sentences
MAX_CLIPPED = 0.001  # share of speech samples at full scale: a few peaks, not a clipped voice
MIN_LEVEL_DB = -40.0  # speech RMS in dBFS; a close microphone gives -30 to -15
FULL_SCALE = 32767


@dataclass(frozen=True)
class Speech:
    """What the segmenter found in ``recorded_s`` seconds of audio."""

    utterances: list[np.ndarray]  # each as the model would get it (pre-roll and tail too)
    recorded_s: float
    speech_s: float  # speech as the VAD times it: each utterance's start to its end
    level_db: float  # RMS of the speech, dBFS
    clipped: float  # share of the speech's samples at full scale

    def summary(self) -> str:
        return (
            f"speech {self.speech_s:.1f} s in {self.recorded_s:.1f} s "
            f"({len(self.utterances)} utterances), level {self.level_db:.1f} dBFS, "
            f"clipped {100 * self.clipped:.2f} %"
        )


def find_speech(samples: np.ndarray, segmenter) -> Speech:
    """The utterances the (webrtcvad) segmenter cuts from 16 kHz int16 ``samples``."""
    found = [
        item
        for item in [*segmenter.feed(Block(samples, 0.0)), *segmenter.flush()]
        if isinstance(item, Utterance)  # not the partials
    ]
    spans = [samples[u.start : u.end] for u in found]
    speech = np.concatenate(spans) if spans else np.zeros(0, np.int16)
    wide = speech.astype(np.float64)
    power = float(np.dot(wide, wide)) / max(1, len(wide))
    return Speech(
        utterances=[u.audio for u in found],
        recorded_s=len(samples) / SAMPLE_RATE,
        speech_s=len(speech) / SAMPLE_RATE,
        level_db=10 * math.log10(max(power, 1.0) / 32768**2),
        clipped=float(np.mean(np.abs(wide) >= FULL_SCALE)) if len(wide) else 0.0,
    )


def check(speech: Speech, what: str, min_speech_s: float = MIN_SPEECH_S, live: bool = True) -> None:
    """One line naming the first problem and its fix; nothing to say when usable.
    ``live``: a recording from the microphone (the fix is to record again)."""
    again = "record again" if live else "give another recording"
    if not speech.utterances:
        raise InputError(
            f"no speech found in {what} ({speech.recorded_s:.1f} s): speak in your normal, "
            f"calm voice for the whole time (is the right microphone chosen? --device)"
            if live
            else f"no speech found in {what} ({speech.recorded_s:.1f} s): give a recording "
            "of your calm, normal voice"
        )
    if speech.speech_s < min_speech_s:
        longer = "speak for longer (--seconds) and record again" if live else "give a longer one"
        raise InputError(
            f"too little speech in {what}: {speech.speech_s:.1f} s, at least "
            f"{min_speech_s:g} s needed: {longer} (or accept less with --min-speech)"
        )
    if speech.clipped > MAX_CLIPPED:
        raise InputError(
            f"{what} is clipped: {100 * speech.clipped:.1f} % of the speech is at full scale: "
            f"turn the input gain down (or speak further from the microphone) and {again}"
        )
    if speech.level_db < MIN_LEVEL_DB:
        raise InputError(
            f"{what} is too quiet: speech at {speech.level_db:.1f} dBFS, at least "
            f"{MIN_LEVEL_DB:g} dBFS needed: turn the input gain up (or speak closer to the "
            f"microphone) and {again}"
        )
