"""One test per hook of streamemo.hookspecs, named test_hook_<hook> (datasette's style:
tests/test_hooks_documented.py fails for a hook without one). Each implements the hook
in a plugin object, as a third party would, and runs a real pipeline with fake stages."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from streamemo.api import (
    AudioAnalyser,
    AudioEmotion,
    Block,
    Emotion,
    Fuser,
    Run,
    Segmenter,
    Sink,
    Source,
    TextAnalyser,
    TextEmotion,
    Transcriber,
    Transcript,
    Utterance,
    hookimpl,
)
from streamemo.testing import run_pipeline, silence, tone
from streamemo.testing.fakes import ArraySource, CollectingSink


class Registers:
    """A plugin registering one stage of ``hook`` as ``name``."""

    def __init__(self, hook: str, name: str, factory):
        setattr(self, hook, hookimpl(lambda register: register(name, factory)))


def test_hook_register_sources():
    class Named(ArraySource):
        def __init__(self):
            super().__init__(tone(1.0), name="from-the-hook")

    run = run_pipeline(plugins=[Registers("register_sources", "named", Named)], source="named")
    assert {event.stream for event in run.events} == {"from-the-hook"}


def test_hook_register_segmenters():
    class Halves(Segmenter):
        def __init__(self):
            self.seen = 0

        def feed(self, block):
            self.seen += len(block.samples)
            return []

        def flush(self):
            audio = np.zeros(self.seen, np.int16)
            half = self.seen // 2
            return [
                Utterance(1, 0, half, audio[:half], 0.0),
                Utterance(2, half, self.seen, audio[half:], 0.0),
            ]

    run = run_pipeline(
        plugins=[Registers("register_segmenters", "halves", Halves)],
        segmenter="halves",
        samples=tone(2.0),
    )
    assert [(u.start, u.end) for u in run.utterances] == [(0.0, 1.0), (1.0, 2.0)]


def test_hook_register_transcribers():
    class Count(Transcriber):
        def transcribe(self, audio):
            return Transcript(f"{len(audio)} samples", "xx")

    run = run_pipeline(
        plugins=[Registers("register_transcribers", "count", Count)], transcriber="count"
    )
    assert all(u.text.endswith(" samples") and u.language == "xx" for u in run.utterances)


def test_hook_register_text_analysers():
    class Length(TextAnalyser):
        def analyse(self, text):
            return TextEmotion({"long": 1.0}, [], f"len{len(text)}")

    run = run_pipeline(plugins=[Registers("register_text_analysers", "len", Length)], text="len")
    assert [u.text_emotion.model for u in run.utterances] == ["len11", "len11", "len7"]


def test_hook_register_audio_analysers():
    class Samples(AudioAnalyser):
        def analyse(self, audio):
            return AudioEmotion({"a": 0.9, "b": 0.1}, len(audio), "samples")

    run = run_pipeline(plugins=[Registers("register_audio_analysers", "n", Samples)], audio="n")
    assert all(u.audio_emotion.windows > 16000 for u in run.utterances)  # a second or more
    assert all(p.audio_emotion.model == "samples" for p in run.partials)


def test_hook_register_fusers():
    class Both(Fuser):
        def fuse(self, text, audio):
            return Emotion(text.label + "+" + audio.label, 1.0, {}, ["text", "audio"], "both")

    run = run_pipeline(plugins=[Registers("register_fusers", "both", Both)], fuser="both")
    assert all(u.emotion.label in ("joy+excited", "joy+calm") for u in run.utterances)
    assert all(u.emotion.method == "both" for u in run.utterances)


def test_hook_register_sinks(tmp_path):
    got: list[tuple[str, str]] = []

    class Tagged(Sink):
        event_types = frozenset({"utterance"})

        def __init__(self, target: str = "none", tag: str = "?"):
            self.target, self.tag = target, tag

        def write(self, event):
            got.append((self.target, self.tag, event.text))

    run = run_pipeline(
        plugins=[Registers("register_sinks", "tagged", Tagged)],
        sinks=["tagged:here"],
        options={"sink": {"tagged": {"tag": "t1"}}},
    )
    assert got == [("here", "t1", u.text) for u in run.utterances] and len(got) == 3


class Lifecycle:
    """Records what the lifecycle hooks see, and when."""

    def __init__(self, sink: CollectingSink | None = None):
        self.sink = sink
        self.calls: list[tuple[str, object]] = []
        self.at_shutdown: dict[str, object] = {}

    @hookimpl
    def streamemo_startup(self, run):
        self.calls.append(("startup", run))
        self.started_counters = run.counters

    @hookimpl
    def streamemo_event(self, event):
        self.calls.append(("event", event))

    @hookimpl
    def streamemo_shutdown(self, run):
        self.calls.append(("shutdown", run))
        self.at_shutdown = {"counters": run.counters, "closed": self.sink and self.sink.closed}


def test_hook_streamemo_startup():
    plugin = Lifecycle()
    run = run_pipeline(plugins=[plugin])
    kind, handed = plugin.calls[0]
    assert kind == "startup"  # before the first event ("started")
    assert isinstance(handed, Run) and handed.stream == "test"
    assert handed.config["pipeline"]["drain_s"] == 30.0
    with pytest.raises(TypeError):  # read-only
        handed.config["pipeline"] = {}
    assert plugin.started_counters.get("utterances", 0) == 0
    assert len(run.utterances) == 3


def test_hook_streamemo_startup_can_stop_a_run():
    class Endless(Source):
        name = "endless"

        def __init__(self):
            self.stopped = threading.Event()

        def blocks(self):
            while not self.stopped.is_set():
                time.sleep(0.005)
                yield Block(silence(0.03), time.monotonic())

        def stop(self):
            self.stopped.set()

    class StopAtOnce:
        @hookimpl
        def streamemo_startup(self, run):
            threading.Timer(0.2, run.stop).start()

    started = time.monotonic()
    run = run_pipeline(plugins=[StopAtOnce()], source=Endless(), timeout=10)
    assert time.monotonic() - started < 5
    assert run.statuses[-1].state == "stopped"


def test_hook_streamemo_shutdown():
    sink = CollectingSink()
    plugin = Lifecycle(sink)
    run_pipeline(plugins=[plugin], sinks=[sink])
    kinds = [kind for kind, _ in plugin.calls]
    assert kinds[-1] == "shutdown" and kinds.count("shutdown") == 1
    assert plugin.calls[-1][1] is plugin.calls[0][1]  # the same Run as at start-up
    assert plugin.at_shutdown["closed"] is True  # after the last event reached every sink
    assert plugin.at_shutdown["counters"]["utterances"] == 3
    assert sink.events[-1].state == "stopped"


def test_hook_streamemo_event():
    plugin = Lifecycle()

    class Raising:
        @hookimpl
        def streamemo_event(self, event):
            if event.type == "utterance":
                raise RuntimeError("observer bug")

    run = run_pipeline(plugins=[plugin, Raising()])
    seen = [event for kind, event in plugin.calls if kind == "event"]
    assert seen == run.events  # every event, in the order the sinks got them
    assert run.counters["errors"] == 3
    assert run.events_lost == 3  # the raising observer missed the three utterances
