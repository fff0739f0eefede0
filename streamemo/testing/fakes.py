"""Small, fast, deterministic stages to put around the one under test.

Each is written against the public contract only, as a plugin would be.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterator, Sequence

import numpy as np

from streamemo.events import AudioEmotion, Emotion, Event, SentenceEmotion, TextEmotion
from streamemo.frames import SAMPLE_RATE, Block, Partial, Transcript, Utterance
from streamemo.stages import (
    AudioAnalyser,
    Fuser,
    Segmenter,
    Sink,
    Source,
    TextAnalyser,
    Transcriber,
)

FRAME = 480  # 30 ms


class ArraySource(Source):
    """Samples from memory, in 30 ms blocks, as fast as they are taken (like a file)."""

    def __init__(self, samples: np.ndarray, name: str = "test", live: bool | None = False):
        self.samples = np.asarray(samples, np.int16)
        self.name = name
        self.live = live
        self.counters = {"blocks": 0}
        self._stopped = threading.Event()

    def blocks(self) -> Iterator[Block]:
        for at in range(0, len(self.samples), FRAME):
            if self._stopped.is_set():
                return
            self.counters = {"blocks": self.counters["blocks"] + 1}
            yield Block(self.samples[at : at + FRAME], time.monotonic())

    def stop(self) -> None:
        self._stopped.set()


class EnergySegmenter(Segmenter):
    """An utterance wherever 30 ms frames are louder than ``threshold`` (of full scale),
    ended by ``hangover_s`` of quiet; a partial every ``partial_every_s`` of speech."""

    def __init__(
        self,
        threshold: float = 0.02,
        hangover_s: float = 0.3,
        preroll_s: float = 0.2,
        partial_every_s: float = 0.5,
    ):
        self.threshold = threshold * 32768
        self.hangover = int(hangover_s * SAMPLE_RATE)
        self.partial_every = int(partial_every_s * SAMPLE_RATE)
        self.speaking = False
        preroll = max(1, int(preroll_s * SAMPLE_RATE) // FRAME)
        self._preroll: deque[np.ndarray] = deque(maxlen=preroll)
        self._pending = np.zeros(0, np.int16)
        self._pos = 0
        self._next_id = 1
        self._frames: list[np.ndarray] = []

    def feed(self, block: Block) -> list[Utterance | Partial]:
        self._pending = np.concatenate((self._pending, block.samples))
        out: list[Utterance | Partial] = []
        while len(self._pending) >= FRAME:
            frame, self._pending = self._pending[:FRAME], self._pending[FRAME:]
            out += self._step(frame, block.arrived)
        return out

    def flush(self) -> list[Utterance]:
        return [self._finish()] if self.speaking else []

    def _step(self, frame: np.ndarray, arrived: float) -> list[Utterance | Partial]:
        loud = float(np.sqrt(np.mean(frame.astype(np.float64) ** 2))) > self.threshold
        self._pos += FRAME
        if not self.speaking:
            if not loud:
                self._preroll.append(frame)
                return []
            self.speaking = True
            self._frames = [*self._preroll, frame]
            self._start, self._end, self._quiet, self._said = self._pos - FRAME, self._pos, 0, 0
        else:
            self._frames.append(frame)
        self._ended_at = arrived
        if loud:
            self._end, self._quiet = self._pos, 0
        else:
            self._quiet += FRAME
            if self._quiet >= self.hangover:
                return [self._finish()]
        if self._end - self._start - self._said >= self.partial_every:
            self._said = self._end - self._start
            audio = np.concatenate(self._frames)[-SAMPLE_RATE:]
            return [Partial(self._next_id, self._start, self._end, audio)]
        return []

    def _finish(self) -> Utterance:
        audio = np.concatenate(self._frames)
        utt = Utterance(self._next_id, self._start, self._end, audio, self._ended_at)
        self._next_id += 1
        self.speaking, self._frames = False, []
        self._preroll.clear()
        return utt


class FixedTranscriber(Transcriber):
    """Hears ``texts`` in turn, one per utterance (then from the first again)."""

    def __init__(self, texts: Sequence[str] = ("hello there",), language: str = "en"):
        self.texts, self.language = list(texts), language
        self.calls = 0
        self._lock = threading.Lock()

    def transcribe(self, audio: np.ndarray) -> Transcript:
        with self._lock:
            text = self.texts[self.calls % len(self.texts)]
            self.calls += 1
        return Transcript(text, self.language)


class FixedTextAnalyser(TextAnalyser):
    """Reads every text as ``label`` with ``score``, the rest on ``neutral``."""

    def __init__(self, label: str = "joy", score: float = 0.8):
        self.label, self.score = label, score

    def analyse(self, text: str) -> TextEmotion:
        scores = {self.label: self.score, "neutral": 1.0 - self.score}
        return TextEmotion(scores, [SentenceEmotion(text, self.label, self.score)], "fixed-text")


class LoudnessAudioAnalyser(AudioAnalyser):
    """ "excited" in proportion to the loudness, else "calm": never flat for speech."""

    def analyse(self, audio: np.ndarray) -> AudioEmotion:
        rms = float(np.sqrt(np.mean(audio.astype(np.float64) ** 2))) / 32768 if len(audio) else 0
        excited = min(0.95, max(0.05, rms * 5))
        windows = max(1, len(audio) // SAMPLE_RATE)
        return AudioEmotion({"excited": excited, "calm": 1.0 - excited}, windows, "loudness")


class PreferTextFuser(Fuser):
    """The text's emotion when there is one, else the voice's."""

    def fuse(self, text: TextEmotion | None, audio: AudioEmotion | None) -> Emotion | None:
        chosen, source = (text, "text") if text is not None else (audio, "audio")
        if chosen is None:
            return None
        return Emotion(chosen.label, chosen.scores[chosen.label], chosen.scores, [source], "prefer")


class CollectingSink(Sink):
    """Keeps every event it gets, in order; ``closed`` once closed."""

    def __init__(self, event_types: frozenset[str] | None = None):
        self.event_types = event_types
        self.events: list[Event] = []
        self.closed = False

    def write(self, event: Event) -> None:
        self.events.append(event)

    def close(self) -> None:
        self.closed = True
