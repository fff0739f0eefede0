"""The runner (streamemo.pipeline.Pipeline) with fake stages in-process: how batches
form for live and file sources, level events, partials, stop() mid-stream, a stage that
dies, the end markers with tiny queues, and what the lifecycle hooks see. Seconds."""

from __future__ import annotations

import io
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor

import pytest

from streamemo import hookspecs
from streamemo.config import load_config
from streamemo.errors import StreamemoError
from streamemo.lifecycle import Run
from streamemo.loading import Analysers, build_stage
from streamemo.pipeline import Pipeline
from streamemo.plugins import STAGE_HOOKS, PluginError, Registration, Registry
from tests.engine_fakes import Blocks, Both, Collect, EachBlock, Glad, Voice, Words, bare_pm


class Stages:
    """A plugin that registers the segmenter under test, and notes the lifecycle hooks."""

    def __init__(self, segmenter, on_startup=None):
        self.segmenter = segmenter
        self.runs: list[tuple[str, Run, dict]] = []
        self._on_startup = on_startup

    @hookspecs.hookimpl
    def register_segmenters(self, register):
        register("each-block", lambda: self.segmenter)

    @hookspecs.hookimpl
    def streamemo_startup(self, run):
        self.runs.append(("startup", run, run.counters))
        if self._on_startup:
            self._on_startup(run)

    @hookspecs.hookimpl
    def streamemo_shutdown(self, run):
        self.runs.append(("shutdown", run, run.counters))


def pipeline(source, words=None, *, segmenter=None, audio=None, text=None, pipe=None, **kw):
    config = load_config(None)
    config["segmenter"] = {"name": "each-block"}
    config["pipeline"] = pipe or {}
    plugin = Stages(segmenter or EachBlock(), kw.pop("on_startup", None))
    pm = bare_pm()
    pm.register(plugin)
    sink = Collect()
    analysers = Analysers(words or Words(), text, audio, kw.pop("fuser", None))
    built = Pipeline(
        config,
        pm,
        sinks=[],
        source=source,
        analysers=analysers,
        extra_sinks=[sink],
        stderr=io.StringIO(),
        **kw,
    )
    return built, sink, plugin


def run_in_thread(p: Pipeline, timeout: float = 20.0) -> BaseException | None:
    outcome: list[BaseException] = []

    def work():
        try:
            p.run()
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    thread.join(timeout)
    assert not thread.is_alive(), "the run hangs: " + ", ".join(
        sorted(t.name for t in threading.enumerate())
    )
    return outcome[0] if outcome else None


def test_a_file_source_fills_every_batch_to_batch_max():
    words = Words()
    p, sink, _ = pipeline(Blocks(n=10, live=False), words, pipe={"batch_max": 4})
    counters = p.run()
    assert words.calls == [("transcribe_many", 4), ("transcribe_many", 4), ("transcribe_many", 2)]
    assert [e.id for e in sink.of("utterance")] == list(range(1, 11))
    assert counters["utterances"] == 10 and counters["blocks"] == 10
    assert sink.of("level") == []  # a file is not metered


def test_a_live_source_never_waits_for_a_batch_to_fill():
    words = Words()
    p, sink, _ = pipeline(Blocks(n=6, live=True, pace_s=0.03), words, pipe={"batch_max": 4})
    p.run()
    assert words.calls == [("transcribe", 1)] * 6  # each heard as soon as it ended
    levels = sink.of("level")
    assert len(levels) == 6 and all(level.speaking for level in levels)  # 0.1 s blocks


def test_a_source_that_is_neither_gets_no_levels():
    p, sink, _ = pipeline(Blocks(n=5, live=None))
    p.run()
    assert len(sink.of("utterance")) == 5 and sink.of("level") == []


def test_batch_max_1_never_batches():
    words = Words()
    p, _, _ = pipeline(Blocks(n=3, live=False), words, pipe={"batch_max": 1})
    p.run()
    assert words.calls == [("transcribe", 1)] * 3


def test_the_whole_chain_text_voice_fusion_and_partials():
    voice = Voice()
    p, sink, _ = pipeline(
        Blocks(n=3), segmenter=EachBlock(partials=True), audio=voice, text=Glad(), fuser=Both()
    )
    counters = p.run()
    events = sink.of("utterance")
    assert all(e.text_emotion and e.audio_emotion and e.emotion for e in events)
    assert (
        len(sink.of("partial")) + counters["partials_skipped"]
        == 3
        == voice.latest + (counters["partials_skipped"])
    )
    assert [e.state for e in sink.of("status")] == ["started", "stopped"]


def test_without_an_audio_analyser_partials_are_dropped_at_once():
    p, sink, _ = pipeline(Blocks(n=3), segmenter=EachBlock(partials=True))
    counters = p.run()
    assert sink.of("partial") == [] and counters["partials"] == 0


def test_stop_mid_stream_loses_nothing_captured():
    source = Blocks(n=8, live=True, hold=True)
    words = Words(delay_s=0.05)  # analysis lags behind capture
    p, sink, _ = pipeline(source, words)
    stopper = threading.Thread(
        target=lambda: (_wait_for(lambda: source.sent == 8), p.stop()), daemon=True
    )
    stopper.start()
    assert run_in_thread(p) is None
    assert [e.id for e in sink.of("utterance")] == list(range(1, 9))
    [stopped] = [e for e in sink.of("status") if e.state == "stopped"]
    assert stopped.counters["utterances"] == 8 and stopped.counters["blocks"] == 8


@pytest.mark.parametrize(
    "source", ["live", "file"], ids=["live source", "file source, frame queue full"]
)
def test_a_stage_that_dies_ends_the_run_with_its_error(source):
    blocks = Blocks(n=50, live=True, hold=True) if source == "live" else Blocks(n=200)
    pipe = {"frame_queue": 2}  # a file source fills it at once, then waits for room
    p, sink, _ = pipeline(blocks, segmenter=EachBlock(die_at=3), pipe=pipe)
    error = run_in_thread(p)
    assert isinstance(error, RuntimeError) and "segmenter broke on block 3" in str(error)
    # the run is ending: what was in flight may go or not, but nothing else comes
    assert [e.id for e in sink.of("utterance")] in ([], [1], [1, 2])
    final = sink.of("status")[-1]
    assert final.state == "error" and "segmenter broke" in final.message


def test_a_failed_background_load_with_tiny_queues_ends_the_run_not_hangs():
    failed: Future = Future()
    failed.set_exception(StreamemoError("[text] 'x' failed to load (simulated)"))
    tiny = {"frame_queue": 1, "utterance_queue": 1, "partial_queue": 1, "batch_max": 2}
    p, sink, _ = pipeline(
        Blocks(n=400), segmenter=EachBlock(partials=True), text=failed, audio=Voice(), pipe=tiny
    )
    error = run_in_thread(p)
    assert isinstance(error, StreamemoError) and "failed to load" in str(error)
    assert sink.of("status")[-1].state == "error"


def test_the_lifecycle_hooks_get_the_public_run_and_it_can_stop_the_stream():
    source = Blocks(n=3, live=True, hold=True)  # goes on until stopped
    p, sink, plugin = pipeline(source, on_startup=lambda run: run.stop())
    assert run_in_thread(p) is None
    (first, run, before), (last, same, after) = plugin.runs
    assert (first, last) == ("startup", "shutdown") and run is same
    assert isinstance(run, Run) and not isinstance(run, Pipeline)
    assert run.stream == "fake" and run.config["segmenter"]["name"] == "each-block"
    with pytest.raises(TypeError):
        run.config["segmenter"]["name"] = "other"  # read-only, to the bottom
    assert before["utterances"] == 0 and after["utterances"] == len(sink.of("utterance"))
    assert source.stopped.is_set()


def _wait_for(predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate() and time.monotonic() < deadline:
        time.sleep(0.005)


def test_a_background_stage_whose_class_lacks_a_method_fails_before_it_loads():
    class NoAnalyse:  # a text analyser without analyse(text)
        def __init__(self):
            raise AssertionError("never built: the class is checked first")

    registry = Registry({kind: {} for kind in STAGE_HOOKS})
    registry.add(Registration("text", "broken", NoAnalyse, "p"))
    with ThreadPoolExecutor(1) as loader:
        with pytest.raises(PluginError, match=r"\[text\] 'broken' \(plugin 'p'\).*analyse"):
            build_stage({"text": {"name": "broken"}}, registry, "text", loader=loader)
