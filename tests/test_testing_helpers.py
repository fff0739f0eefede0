"""streamemo.testing: the helpers plugin authors test with do what they say, fast."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from streamemo.api import (
    SAMPLE_RATE,
    AudioAnalyser,
    AudioEmotion,
    PluginError,
    Sink,
    TextEmotion,
    Utterance,
    hookimpl,
)
from streamemo.events import event_from_dict, event_to_dict
from streamemo.testing import (
    check_stage,
    make_utterance_event,
    run_pipeline,
    run_sink,
    run_stage,
    silence,
    speechlike,
    synthetic_events,
    tone,
    utterances,
)
from streamemo.testing.fakes import CollectingSink, EnergySegmenter, FixedTranscriber


def test_test_audio_is_int16_16k_of_the_asked_length():
    for audio in (silence(0.5), tone(0.5), speechlike(0.5)):
        assert audio.dtype == np.int16 and len(audio) == SAMPLE_RATE // 2
    assert not silence(0.5).any()
    assert abs(int(np.abs(tone(1.0, level=0.5)).max()) - 16384) < 2
    assert np.array_equal(speechlike(1.0, seed=3), speechlike(1.0, seed=3))
    assert not np.array_equal(speechlike(1.0, seed=3), speechlike(1.0, seed=4))
    assert len(utterances(1.0, 2.0, gap_s=0.5)) == int(4.5 * SAMPLE_RATE)


def test_speechlike_audio_is_speech_to_the_real_webrtcvad_segmenter():
    from streamemo.default_plugins.vad_segmenter import VadSegmenter

    audio = utterances(1.2, 1.5)
    items = run_stage(
        "segmenter", VadSegmenter(), [audio[i : i + 480] for i in range(0, len(audio), 480)]
    )
    found = [item for item in items if isinstance(item, Utterance)]
    assert len(found) == 2
    assert abs(found[0].start / SAMPLE_RATE - 0.8) < 0.1  # the first begins after the gap


def test_synthetic_events_are_a_whole_run_in_order_and_round_trip_as_json():
    events = synthetic_events()
    assert [e.type for e in events] == ["status"] + ["partial", "utterance"] * 3 + ["status"]
    assert (events[0].state, events[-1].state) == ("started", "stopped")
    utts = [e for e in events if e.type == "utterance"]
    assert [u.emotion.label for u in utts] == ["joy", "sadness", "anger"]
    assert [u.id for u in utts] == [1, 2, 3] and utts[0].end < utts[1].start
    for event in events:
        assert event_to_dict(event_from_dict(event_to_dict(event))) == event_to_dict(event)
    assert abs(sum(utts[0].text_emotion.scores.values()) - 1.0) < 1e-9
    no_text = make_utterance_event(None)
    assert no_text.text_emotion is None and no_text.emotion.sources == ["audio"]
    live = synthetic_events(("hi",), partials=False, levels=True)
    assert [e.type for e in live] == ["status", "level", "utterance", "status"]


class FlakySink:  # duck-typed on purpose: no base class, no close
    event_types = frozenset({"utterance"})

    def __init__(self):
        self.texts = []

    def write(self, event):
        if event.id == 2:
            raise OSError("disk full")
        self.texts.append(event.text)


def test_run_sink_goes_through_the_real_runner():
    sink = FlakySink()
    writer: list[str] = []
    original = sink.write
    sink.write = lambda e: (writer.append(threading.current_thread().name), original(e))[1]
    result = run_sink(sink, synthetic_events())
    # event_types filtered out partials and status; the failed write is counted, once said
    assert sink.texts == ["I am glad you came.", "Stop it now!"]
    assert (result.written, result.failed, result.dropped, result.finished) == (2, 1, 0, True)
    assert len(result.errors) == 1 and "OSError: disk full" in result.errors[0]
    assert set(writer) == {"sink-under-test"}  # its own thread, not the caller's


def test_run_sink_closes_and_gives_up_on_a_stuck_sink():
    collected = CollectingSink()
    assert run_sink(collected, synthetic_events()).written == 8 and collected.closed

    class Stuck(Sink):
        def write(self, event):
            threading.Event().wait(5)

    started = time.monotonic()
    result = run_sink(Stuck(), synthetic_events(), timeout=0.2)
    assert not result.finished and time.monotonic() - started < 2


def test_check_stage_is_the_start_up_check():
    class NoWrite:
        def writes(self, event):
            pass

    with pytest.raises(PluginError, match=r"\[sink\] 'under-test'.*no method write\(event\)"):
        check_stage("sink", NoWrite())
    with pytest.raises(PluginError, match="no method write"):
        run_sink(NoWrite(), synthetic_events())


class Shout(AudioAnalyser):
    """The author's analyser under test: loud is "angry"."""

    def __init__(self):
        self.threads: set[str] = set()

    def analyse(self, audio):
        self.threads.add(threading.current_thread().name)
        loud = float(np.abs(audio).mean()) > 1000
        scores = {"angry": 0.9, "calm": 0.1} if loud else {"angry": 0.1, "calm": 0.9}
        return AudioEmotion(scores, 1, "shout")


def test_run_stage_calls_each_kind_as_the_engine_does():
    audio = speechlike(1.0, level=0.5)
    assert [e.label for e in run_stage("audio", Shout(), [audio, silence(1.0)])] == [
        "angry",
        "calm",
    ]
    assert len(run_stage("audio", Shout(), [audio] * 3, many=True)) == 3  # default loop
    texts = run_stage("transcriber", FixedTranscriber(("a", "b")), [audio, audio, audio])
    assert [t.text for t in texts] == ["a", "b", "a"]
    fused = run_stage("fuser", _PreferVoice(), [(None, Shout().analyse(audio))])
    assert fused[0].label == "angry"
    from streamemo.testing.fakes import ArraySource

    blocks = run_stage("source", ArraySource(utterances(1.0)), 5)
    assert len(blocks) == 5 and all(len(b.samples) == 480 for b in blocks)


class _PreferVoice:
    def fuse(self, text, audio):
        from streamemo.api import Emotion

        return Emotion(audio.label, audio.scores[audio.label], audio.scores, ["audio"], "v")


def test_run_pipeline_with_the_fakes_is_a_whole_run_in_well_under_a_second():
    started = time.perf_counter()
    run = run_pipeline()
    elapsed = time.perf_counter() - started
    assert [u.text for u in run.utterances] == ["hello there", "how are you", "goodbye"]
    assert [u.id for u in run.utterances] == [1, 2, 3]
    assert all(u.emotion.label == "joy" and u.emotion.sources == ["text"] for u in run.utterances)
    assert all(u.audio_emotion.model == "loudness" for u in run.utterances)
    assert run.partials  # the fake segmenter sends speech in progress
    assert (run.statuses[0].state, run.statuses[-1].state) == ("started", "stopped")
    assert run.counters["utterances"] == 3 and run.counters["errors"] == 0
    assert elapsed < 2.0, elapsed  # 0.1 s on a quiet machine; 2 cores shared in CI


def test_run_pipeline_runs_the_authors_analyser_on_the_engines_threads():
    shout = Shout()
    run = run_pipeline(audio=shout, text=False, samples=utterances(1.0, 1.0, level=0.6))
    assert len(run.utterances) == 2
    assert all(u.audio_emotion.model == "shout" for u in run.utterances)
    assert all(u.text_emotion is None and u.emotion.sources == ["audio"] for u in run.utterances)
    assert all(p.audio_emotion.model == "shout" for p in run.partials)  # analyse_latest
    assert any(name.startswith("voice") for name in shout.threads)
    assert run.stages["audio"] is shout


def test_run_pipeline_with_a_plugin_module_and_its_registered_names(tmp_path):
    seen = []

    class Plugin:
        class Upper:
            def analyse(self, text):  # duck-typed text analyser
                return TextEmotion({"loud": 1.0}, [], text.upper())

        @hookimpl
        def register_text_analysers(self, register):
            register("upper", self.Upper)

        @hookimpl
        def streamemo_event(self, event):
            seen.append(event.type)

    out = tmp_path / "out.jsonl"
    run = run_pipeline(plugins=[Plugin()], text="upper", sinks=[f"jsonl:{out}"])
    assert [u.text_emotion.model for u in run.utterances] == [
        "HELLO THERE",
        "HOW ARE YOU",
        "GOODBYE",
    ]
    assert seen.count("utterance") == 3  # the observer hook ran
    assert out.read_text().count('"type": "utterance"') == 3  # a built-in sink beside it


def test_run_pipeline_reports_a_failing_sink_as_streamemo_does():
    run = run_pipeline(sinks=[FlakySink()])
    assert len(run.utterances) == 3  # the collector got everything
    assert "failed: OSError: disk full" in run.stderr
    assert run.events_lost == 1


def test_run_pipeline_stops_a_run_that_does_not_end():
    class Endless:
        name = "endless"

        def __init__(self):
            self.stopped = threading.Event()

        def blocks(self):
            from streamemo.api import Block

            while not self.stopped.is_set():
                time.sleep(0.01)
                yield Block(silence(0.03), time.monotonic())

        def stop(self):
            self.stopped.set()

    source = Endless()
    with pytest.raises(TimeoutError):
        run_pipeline(source=source, timeout=0.5)
    assert source.stopped.is_set()


def test_the_fake_segmenter_cuts_where_the_audio_is_loud():
    items = run_stage("segmenter", EnergySegmenter(), [utterances(1.0, 2.0, gap_s=0.6)])
    found = [i for i in items if isinstance(i, Utterance)]
    assert [round(u.start / SAMPLE_RATE, 1) for u in found] == [0.6, 2.2]
    assert all(len(u.audio) > u.end - u.start for u in found)  # pre-roll and tail kept
