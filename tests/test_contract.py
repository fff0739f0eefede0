"""The stage contract is checked at start-up: a broken stage is one line naming the
plugin and the method, before audio flows; a duck-typed stage still works."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf

from streamemo.api import (
    SAMPLE_RATE,
    AudioAnalyser,
    AudioEmotion,
    Block,
    Emotion,
    Fuser,
    PluginError,
    Segmenter,
    Sink,
    Source,
    Span,
    TextAnalyser,
    Transcriber,
    Transcript,
)
from streamemo.contract import conform
from streamemo.testing import utterances
from tests.conftest import run_cli

WHERE = "[kind] 'x' (plugin 'p')"

BROKEN_PLUGIN = """
from streamemo.api import Transcript, hookimpl


class Options:  # takes the default config's options of the stage it replaces
    def __init__(self, **options):
        self.options = options


class NoTranscribe(Options):  # the method is misnamed
    def transcribe_audio(self, audio):
        return Transcript("never", "en")


class WrongSignature(Options):
    def transcribe(self, audio, language):
        return Transcript("never", language)


class NoFlush(Options):
    def feed(self, block):
        return []


class WriteTakesNothing(Options):
    event_types = None

    def write(self):
        pass


class DuckTranscriber(Options):  # no base class, only the one required method
    def transcribe(self, audio):
        return Transcript("duck words", "en")


class DuckSink:  # no event_types, no close
    def __init__(self, target):
        self.target = target

    def write(self, event):
        with open(self.target, "a") as out:
            out.write(event.type + " " + str(getattr(event, "text", "")) + "\\n")


@hookimpl
def register_transcribers(register):
    register("no-transcribe", NoTranscribe)
    register("wrong-signature", WrongSignature)
    register("duck", DuckTranscriber)


@hookimpl
def register_segmenters(register):
    register("no-flush", NoFlush)


@hookimpl
def register_sinks(register):
    register("write-takes-nothing", WriteTakesNothing)
    register("duck", DuckSink)
"""


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    folder = tmp_path_factory.mktemp("contract")
    (folder / "plugins").mkdir()
    (folder / "plugins" / "broken.py").write_text(BROKEN_PLUGIN)
    wav = folder / "speech.wav"
    sf.write(wav, utterances(1.2, 1.5), SAMPLE_RATE, subtype="PCM_16")
    return folder


def _run(setup, tmp_path, *options: str, sink: str | None = None):
    out = tmp_path / "out.jsonl"
    args = ["-q", "--plugins-dir", str(setup / "plugins"), "run", "--input"]
    args += [str(setup / "speech.wav"), "-o", "text.enabled=false", "-o", "audio.enabled=false"]
    for option in options:
        args += ["-o", option]
    args += ["--sink", f"jsonl:{out}"] + (["--sink", sink] if sink else [])
    result = run_cli(*args, timeout=120)
    return result, out


def _no_events(out) -> bool:
    return not out.exists() or not out.read_text().strip()


@pytest.mark.parametrize(
    ("options", "sink", "names"),
    [
        (["transcriber.name=no-transcribe"], None, ("'no-transcribe'", "transcribe(audio)")),
        (
            ["transcriber.name=wrong-signature"],
            None,
            ("'wrong-signature'", "transcribe(audio, language)", "transcribe(audio)"),
        ),
        (
            ["segmenter.name=no-flush", "transcriber.enabled=false"],
            None,
            ("'no-flush'", "flush()"),
        ),
        (
            ["transcriber.enabled=false"],
            "write-takes-nothing",
            ("write-takes-nothing", "write(event)"),
        ),
    ],
    ids=["transcriber-missing-method", "transcriber-signature", "segmenter", "sink"],
)
def test_a_broken_stage_fails_at_start_up_with_one_line(setup, tmp_path, options, sink, names):
    result, out = _run(setup, tmp_path, *options, sink=sink)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2, result.stderr
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("streamemo: error: ")
    assert "broken.py" in lines[0]  # the plugin
    for name in names:
        assert name in lines[0]
    assert "Traceback" not in result.stderr
    assert _no_events(out)  # before audio flowed: not even a "started" status


def test_duck_typed_stages_run_with_the_defaults(setup, tmp_path):
    duck = tmp_path / "duck.txt"
    result, out = _run(setup, tmp_path, "transcriber.name=duck", sink=f"duck:{duck}")
    assert result.returncode == 0, result.stderr
    assert "failed" not in result.stderr  # the sink's missing close() is the default's
    # the transcriber had no transcribe_many: the default loop served both utterances
    lines = duck.read_text().splitlines()  # a sink without event_types gets every type
    assert lines.count("utterance duck words") == 2, lines
    assert lines[0].startswith("status") and lines[-1].startswith("status")
    events = [json.loads(line) for line in out.read_text().splitlines()]
    assert [e["text"] for e in events if e["type"] == "utterance"] == ["duck words"] * 2


# -- conform() itself, for each kind ---------------------------------------------------


class _Source:
    name = "s"

    def blocks(self):
        return iter(())

    def stop(self):
        pass


class _Segmenter:
    def feed(self, block):
        return [block]

    def flush(self):
        return []


class _Transcriber:
    def transcribe(self, audio):
        return Transcript(f"{len(audio)} samples", "en")


class _Text:
    def analyse(self, text):
        return None


class _Audio:
    def analyse(self, audio):
        return AudioEmotion({"a": 1.0}, 1, "m")


class _Fuser:
    def fuse(self, text, audio):
        return Emotion("a", 1.0, {"a": 1.0}, [], "m")


class _Sink:
    def write(self, event):
        self.last = event


DUCKS = {
    "source": (_Source, Source, "blocks", "blocks()"),
    "segmenter": (_Segmenter, Segmenter, "feed", "feed(block)"),
    "transcriber": (_Transcriber, Transcriber, "transcribe", "transcribe(audio)"),
    "text": (_Text, TextAnalyser, "analyse", "analyse(text)"),
    "audio": (_Audio, AudioAnalyser, "analyse", "analyse(audio)"),
    "fuser": (_Fuser, Fuser, "fuse", "fuse(text, audio)"),
    "sink": (_Sink, Sink, "write", "write(event)"),
}


@pytest.mark.parametrize("kind", list(DUCKS))
def test_conform_names_a_missing_method_in_one_line(kind):
    duck, _, method, wanted = DUCKS[kind]
    lacking = type("Lacking", (duck,), {method: None})()
    delattr_free = type("Lacking2", (), {k: v for k, v in vars(duck).items() if k != method})()
    for stage in (lacking, delattr_free):
        with pytest.raises(PluginError) as caught:
            conform(kind, stage, WHERE)
        message = str(caught.value)
        assert "\n" not in message and message.startswith(WHERE + ": ")
        assert wanted in message


@pytest.mark.parametrize("kind", list(DUCKS))
def test_conform_names_a_wrong_signature(kind):
    duck, _, method, _ = DUCKS[kind]

    def wrong(self, a, b, c):
        pass

    stage = type("Wrong", (duck,), {method: wrong})()
    with pytest.raises(PluginError, match=r"method \w+\(a, b, c\) cannot be called as"):
        conform(kind, stage, WHERE)


@pytest.mark.parametrize("kind", list(DUCKS))
def test_a_duck_typed_stage_is_adapted_and_a_subclass_kept(kind):
    duck, base, method, _ = DUCKS[kind]
    adapted = conform(kind, duck(), WHERE)
    assert isinstance(adapted, base) and type(adapted) is not duck
    # *args is fine: nothing to check against
    loose = type("Loose", (), {**vars(duck), method: lambda self, *args: args})()
    assert isinstance(conform(kind, loose, WHERE), base)
    subclass = type("Sub", (base,), {m: getattr(duck, m) for m in vars(duck) if m[0] != "_"})()
    assert conform(kind, subclass, WHERE) is subclass


def test_the_adapter_supplies_defaults_and_delegates_the_rest():
    transcriber = conform("transcriber", _Transcriber(), WHERE)
    audio = np.zeros(1600, np.int16)
    assert transcriber.num_workers == 1
    assert [t.text for t in transcriber.transcribe_many([audio, audio[:10]])] == [
        "1600 samples",
        "10 samples",
    ]
    span = Span(np.zeros(3000, np.int16), 1000, 2600)
    assert transcriber.transcribe_span(span).text == "1600 samples"  # its own audio only
    assert transcriber.wrapped.__class__ is _Transcriber

    analyser = conform("audio", _Audio(), WHERE)
    assert analyser.analyse_latest(audio).scores == {"a": 1.0}  # falls back to analyse
    assert len(analyser.analyse_many([audio] * 3)) == 3

    sink = conform("sink", _Sink(), WHERE)
    assert sink.event_types is None
    sink.close()  # the default: nothing
    sink.write("e")
    assert sink.wrapped.last == "e"

    # capabilities are read through, each time: a source's counters, a segmenter's state
    raw = _Source()
    source = conform("source", raw, WHERE)
    assert (source.name, source.live, dict(source.counters)) == ("s", None, {})
    raw.counters = {"blocks": 3}
    raw.live = True
    assert source.counters == {"blocks": 3} and source.live is True
    seg_raw = _Segmenter()
    segmenter = conform("segmenter", seg_raw, WHERE)
    assert segmenter.speaking is False
    seg_raw.speaking = True
    assert segmenter.speaking is True
    assert segmenter.feed(Block(audio, 0.0))[0].samples is audio
    segmenter.extra = 5  # attributes set on the adapter land on the plugin's object
    assert seg_raw.extra == 5


@pytest.mark.parametrize(
    ("kind", "attr", "value", "says"),
    [
        ("source", "live", "yes", "live must be True, False or None"),
        ("source", "name", "", "name must be a non-empty str"),
        ("source", "counters", [1, 2], "counters must be a dict"),
        ("segmenter", "speaking", "no", "speaking must be True or False"),
        ("transcriber", "num_workers", 0, "num_workers must be a whole number, at least 1"),
        ("transcriber", "num_workers", True, "num_workers must be a whole number"),
        ("sink", "event_types", "utterance", "event_types must be None or a frozenset"),
        ("sink", "event_types", frozenset({"utterances"}), "unknown event types utterances"),
    ],
)
def test_a_capability_of_the_wrong_type_is_one_line(kind, attr, value, says):
    duck = DUCKS[kind][0]
    stage = type("Odd", (duck,), {attr: value})()
    with pytest.raises(PluginError, match=says) as caught:
        conform(kind, stage, WHERE)
    assert "\n" not in str(caught.value) and WHERE in str(caught.value)


def test_every_problem_of_a_stage_is_in_its_one_line():
    class Bad:
        name = 3

    with pytest.raises(PluginError) as caught:
        conform("source", Bad(), WHERE)
    message = str(caught.value)
    assert "blocks()" in message and "stop()" in message and "name must be" in message
    assert message.count(WHERE) == 1 and "\n" not in message


def test_an_async_method_is_refused():
    class Async:
        async def write(self, event):
            pass

    with pytest.raises(PluginError, match="async"):
        conform("sink", Async(), WHERE)


def test_the_base_classes_supply_their_defaults():
    class Quiet(Sink):
        def write(self, event):
            pass

    class Counting(Transcriber):
        def transcribe(self, audio):
            return Transcript(str(len(audio)), None)

    assert Quiet().event_types is None and Quiet().close() is None
    assert [
        t.text for t in Counting().transcribe_span_many([Span(np.zeros(9, np.int16), 2, 5)])
    ] == ["3"]
    assert Counting().transcribe_draft(np.zeros(7, np.int16)).text == "7"  # live words
    with pytest.raises(TypeError):  # an abstract method left out: the class cannot be built
        type("Half", (TextAnalyser,), {})()
    assert Source.counters == {} and Source.live is None and Source.name == "stream"
    with pytest.raises(TypeError):  # the shared default cannot be changed by accident
        Source.counters["x"] = 1


def test_cut_parts_reach_a_transcribers_own_batching_by_default():
    # a transcriber with transcribe_many and no transcribe_span: the parts of a cut
    # monologue go through its batch call, their own audio each, not one by one
    calls = []

    class Batching(Transcriber):
        def transcribe(self, audio):
            calls.append(1)
            return Transcript("one", None)

        def transcribe_many(self, audios):
            calls.append(len(audios))
            return [Transcript(str(len(a)), None) for a in audios]

    spans = [Span(np.zeros(9, np.int16), 2, 5), Span(np.zeros(6, np.int16), 0, 4)]
    assert [t.text for t in Batching().transcribe_span_many(spans)] == ["3", "4"]
    assert calls == [2]

    class Spanning(Batching):
        def transcribe_span(self, span):  # its own span reading is used, span by span
            calls.append("span")
            return Transcript(str(len(span.audio)), None)

    calls.clear()
    assert [t.text for t in Spanning().transcribe_span_many(spans)] == ["9", "6"]
    assert calls == ["span", "span"]


# -- check_factory(): a stage class checked before it is built -------------------------


def test_check_factory_finds_a_class_missing_a_method_before_it_is_built():
    from streamemo.contract import check_factory

    built = []

    class Lazy:  # built in the background: the check must not need an instance
        def __init__(self):
            built.append(self)

        def analyse_audio(self, audio):
            pass

    with pytest.raises(PluginError, match=r"^\[audio\] 'x': no method analyse\(audio\)"):
        check_factory("audio", Lazy, "[audio] 'x'")
    assert built == []
    with pytest.raises(PluginError, match=r"analyse\(self, audio, rate\) cannot be called"):
        check_factory("audio", type("Wrong", (), {"analyse": lambda self, audio, rate: 0}), "w")
    with pytest.raises(PluginError, match=r"no method analyse\(audio\)"):  # left abstract
        check_factory("audio", type("Half", (AudioAnalyser,), {}), "w")
    with pytest.raises(PluginError, match="reads_files must be True or False"):
        check_factory("source", type("S", (_Source,), {"reads_files": "yes"}), "w")


def test_check_factory_passes_what_only_an_instance_can_tell():
    from streamemo.contract import check_factory

    class Static:
        @staticmethod
        def analyse(audio):
            return None

    class Dynamic:
        def __getattr__(self, name):
            return lambda *args: None

    for factory in (_Audio, Static, Dynamic, lambda: _Audio()):
        check_factory("audio", factory, "w")  # no error
    for kind, (duck, *_) in DUCKS.items():
        check_factory(kind, duck, "w")
