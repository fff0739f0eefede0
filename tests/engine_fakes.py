"""Fake stages for the engine's fast tests: plain classes on the streamemo.stages base
classes, deterministic and instant, each recording how the engine called it."""

from __future__ import annotations

import io
import threading
import time

import numpy as np
import pluggy

from streamemo import hookspecs
from streamemo.emission import Emission
from streamemo.events import AudioEmotion, Emotion, TextEmotion
from streamemo.frames import Block, Cut, Partial, Transcript, Utterance
from streamemo.stages import (
    AudioAnalyser,
    Fuser,
    Segmenter,
    Sink,
    Source,
    TextAnalyser,
    Transcriber,
)

LABELS = ("angry", "happy", "neutral", "sad")
CONFIDENT = {"angry": 0.05, "happy": 0.85, "neutral": 0.05, "sad": 0.05}
FLAT = dict.fromkeys(LABELS, 0.25)


def bare_pm() -> pluggy.PluginManager:
    """A plugin manager with streamemo's hooks and no plugin at all."""
    pm = pluggy.PluginManager("streamemo")
    pm.add_hookspecs(hookspecs)
    return pm


class Seen:
    """A ``streamemo_event`` observer plugin that keeps every event."""

    def __init__(self):
        self.events: list = []

    @hookspecs.hookimpl
    def streamemo_event(self, event):
        self.events.append(event)


def emission(pm: pluggy.PluginManager | None = None) -> Emission:
    return Emission("test", pm or bare_pm(), io.StringIO())


def observed() -> tuple[Emission, Seen]:
    """An emission whose every event is kept by an observer."""
    pm, seen = bare_pm(), Seen()
    pm.register(seen)
    return emission(pm), seen


def utterance(uid: int, samples: int = 1600, fill: int = 100, **cuts) -> Utterance:
    start = uid * 16000
    audio = np.full(samples, fill, np.int16)
    return Utterance(uid, start, start + samples, audio, time.monotonic(), **cuts)


def cut_pair() -> tuple[Utterance, Utterance]:
    """Two parts of one monologue cut between them."""
    cut = Cut(np.full(800, 7, np.int16), np.full(800, 9, np.int16))
    return utterance(1, end_cut=cut), utterance(2, start_cut=cut)


class Words(Transcriber):
    """``text`` for every utterance, or per utterance id from ``texts`` (by its first
    sample's value, see ``utterance(fill=...)``); ``fail_on``: fills that raise."""

    def __init__(self, text="hello there", many_fails=False, many_short=False, delay_s=0.0):
        self.text = text
        self.delay_s = delay_s
        self.fail_on: set[int] = set()
        self.calls: list[tuple[str, int]] = []  # (method, how many)
        self._many_fails, self._many_short = many_fails, many_short

    def transcribe(self, audio):
        self.calls.append(("transcribe", 1))
        time.sleep(self.delay_s)
        if int(audio[0]) in self.fail_on:
            raise RuntimeError(f"cannot hear {int(audio[0])}")
        return Transcript(self.text, "en")

    def transcribe_many(self, audios):
        self.calls.append(("transcribe_many", len(audios)))
        time.sleep(self.delay_s * len(audios))
        if self._many_fails:
            raise RuntimeError("the whole batch failed")
        out = [Transcript(self.text, "en") for _ in audios]
        return out[:-1] if self._many_short else out

    def transcribe_span(self, span):
        self.calls.append(("transcribe_span", 1))
        return Transcript(self.text, "en")

    def transcribe_span_many(self, spans):
        self.calls.append(("transcribe_span_many", len(spans)))
        return [Transcript(self.text, "en") for _ in spans]


class Glad(TextAnalyser):
    def __init__(self):
        self.seen: list[str] = []

    def analyse(self, text):
        self.seen.append(text)
        return TextEmotion({"happy": 0.9, "sad": 0.1}, [], "glad")


class Voice(AudioAnalyser):
    """A voice reading per utterance: ``scores`` (confident by default)."""

    def __init__(self, scores=CONFIDENT, fail=False):
        self.scores = dict(scores)
        self.fail = fail
        self.latest = 0
        self.thread: str | None = None

    def analyse(self, audio):
        self.thread = threading.current_thread().name
        return AudioEmotion(dict(self.scores), 1, "voice")

    def analyse_latest(self, audio):
        self.latest += 1
        if self.fail:
            raise RuntimeError("no partials today")
        return AudioEmotion(dict(self.scores), 1, "voice-latest")


class Both(Fuser):
    """Records what it was given; ``fail``: raises."""

    def __init__(self, fail=False):
        self.fail = fail
        self.given: list[tuple] = []

    def fuse(self, text, audio):
        self.given.append((text, audio))
        if self.fail:
            raise ValueError("cannot fuse")
        return Emotion("happy", 0.9, {"happy": 0.9}, ["text", "audio"], "both")


class Blocks(Source):
    """``n`` blocks of ``size`` samples, each block's samples = its number; ``hold``:
    after them, wait for stop() (a live device that goes on until stopped)."""

    name = "fake"

    def __init__(self, n=20, size=1600, live=False, hold=False, pace_s=0.0):
        self.n, self.size, self.live, self.hold, self.pace_s = n, size, live, hold, pace_s
        self.counters = {"blocks": 0}
        self.stopped = threading.Event()
        self.sent = 0

    def blocks(self):
        for i in range(1, self.n + 1):
            if self.stopped.is_set():
                return
            if self.pace_s:
                time.sleep(self.pace_s)
            self.sent = i
            self.counters = {"blocks": i}
            yield Block(np.full(self.size, i, np.int16), time.monotonic())
        if self.hold:
            self.stopped.wait(30)

    def stop(self):
        self.stopped.set()


class EachBlock(Segmenter):
    """Every block an utterance (its id the block's number); ``partials``: a partial
    before each; ``die_at``: raises on that block."""

    def __init__(self, partials=False, die_at=None):
        self.partials, self.die_at = partials, die_at
        self.n = 0

    def feed(self, block):
        self.n += 1
        if self.n == self.die_at:
            raise RuntimeError(f"segmenter broke on block {self.n}")
        self.speaking = True
        start = (self.n - 1) * len(block.samples)
        end = start + len(block.samples)
        if self.partials:
            yield Partial(self.n, start, end, block.samples)
        yield Utterance(self.n, start, end, block.samples, block.arrived)

    def flush(self):
        return iter(())


class Collect(Sink):
    def __init__(self, fail=False, delay_s=0.0):
        self.events: list = []
        self.fail, self.delay_s = fail, delay_s
        self.closed = False

    def write(self, event):
        if self.delay_s:
            time.sleep(self.delay_s)
        if self.fail:
            raise OSError("disk full")
        self.events.append(event)

    def close(self):
        self.closed = True

    def of(self, kind: str) -> list:
        return [e for e in self.events if e.type == kind]
