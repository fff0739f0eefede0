"""`streamemo serve` builds its sources and sinks through the registry: each stream's
source is the `[serve] source` plugin (a third-party one too); the sinks of
`[serve] sinks` are built once, shared by every stream and closed at the end; a
third-party sink from --plugins-dir runs there too. Real sockets on 127.0.0.1, real
processes, espeak-ng speech; the segmenter alone (no model to wait for)."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import OFFLINE_CONFIG, run_cli
from tests.espeak import speak
from tests.ws_helpers import ServeProcess, send_audio

NO_MODELS = ["transcriber.enabled=false", "audio.enabled=false", "text.enabled=false"]

# a third-party sink: every event as a JSON line in its target, "closed" once at close()
COLLECT_PLUGIN = """
import json
from streamemo.api import Sink, event_to_dict, hookimpl


class Collect(Sink):
    def __init__(self, target: str):
        self.file = open(target, "a", encoding="utf-8")

    def write(self, event):
        self.file.write(json.dumps(event_to_dict(event)) + "\\n")
        self.file.flush()

    def close(self):
        self.file.write('"closed"\\n')
        self.file.close()


class Broken(Sink):
    def __init__(self, target: str = ""):
        pass

    def write(self, event):
        raise OSError("disk full")


@hookimpl
def register_sinks(register):
    register("collect", Collect)
    register("broken", Broken)
"""

# a third-party source for serve: the network source, its streams renamed
TAGGED_PLUGIN = """
from streamemo.api import hookimpl
from streamemo.default_plugins.network_source import NetworkSource


class Tagged(NetworkSource):
    def __init__(self, stream: str):
        if stream == "cursed":
            raise RuntimeError("no audio for cursed streams")
        super().__init__(f"tagged-{stream}")


@hookimpl
def register_sources(register):
    register("tagged", Tagged)
"""


@pytest.fixture(scope="module")
def speech(tmp_path_factory) -> np.ndarray:
    """Two sentences with a pause between: two utterances."""
    folder = tmp_path_factory.mktemp("speech")
    first = speak("The weather is lovely today.", folder / "a.wav")
    second = speak("I could not find my keys this morning.", folder / "b.wav")
    pause = np.zeros(16000, np.int16)
    return np.concatenate([pause, first, pause, pause, second, pause])


def _serve(*overrides: str, plugins_dir: Path | None = None) -> ServeProcess:
    keys = [*NO_MODELS, *overrides]
    options = [a for k in keys for a in ("-o", k)]
    return ServeProcess("--config", str(OFFLINE_CONFIG), *options, plugins_dir=plugins_dir)


def _two_streams(server: ServeProcess, speech: np.ndarray) -> None:
    """Two clients at once, each named in its hello."""
    results: dict[str, tuple] = {}

    def client(name: str) -> None:
        results[name] = send_audio(server.url("/audio"), speech, hello={"name": name})

    threads = [threading.Thread(target=client, args=(n,)) for n in ("kitchen", "hall")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    for name, (events, code, _reason) in results.items():
        assert code == 1000, (name, code)
        assert sum(e["type"] == "utterance" for e in events) == 2, (name, events)


def _lines(path: Path) -> list:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_shared_sinks_get_the_events_of_every_stream_and_each_is_a_diary_entry(speech, tmp_path):
    from streamemo.diary.store import Diary

    out, db = tmp_path / "all.jsonl", tmp_path / "diary.db"
    server = _serve(f'serve.sinks=["jsonl:{out}", "diary:{db}"]')
    try:
        _two_streams(server, speech)
    finally:
        code = server.stop()
    assert code == 0, server.stderr
    events = _lines(out)
    for name in ("kitchen", "hall"):
        mine = [e for e in events if e["stream"] == name]
        assert [e["type"] for e in mine].count("utterance") == 2, mine
        states = [e["state"] for e in mine if e["type"] == "status"]
        assert states[0] == "started" and states[-1] == "stopped", states
    with Diary(db, create=False) as diary:
        entries = diary.entries()
    assert sorted(e.stream for e in entries) == ["hall", "kitchen"]
    assert [e.utterances for e in entries] == [2, 2]
    assert all(e.ended_at is not None for e in entries)  # each stream's end finished it


def test_a_third_party_sink_runs_under_serve_and_is_closed_once_at_the_end(speech, tmp_path):
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "collect.py").write_text(COLLECT_PLUGIN)
    out = tmp_path / "collected.jsonl"
    server = _serve(f'serve.sinks=["collect:{out}"]', plugins_dir=plugins)
    try:
        _two_streams(server, speech)
        # both streams have ended, serve has not: the shared sink is still open
        assert '"closed"' not in out.read_text()
    finally:
        code = server.stop()
    assert code == 0, server.stderr
    lines = _lines(out)
    assert lines[-1] == "closed" and lines.count("closed") == 1
    streams = {e["stream"] for e in lines[:-1]}
    assert streams == {"kitchen", "hall"}
    assert sum(e["type"] == "utterance" for e in lines[:-1]) == 4


def test_a_failing_shared_sink_is_reported_at_the_end_and_the_others_get_everything(
    speech, tmp_path
):
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "collect.py").write_text(COLLECT_PLUGIN)
    out = tmp_path / "all.jsonl"
    sinks = f'serve.sinks=["broken", "jsonl:{out}"]'
    server = _serve(sinks, plugins_dir=plugins)
    try:
        _two_streams(server, speech)
    finally:
        code = server.stop()
    assert code == 1, server.stderr  # events were lost: as `run` does
    assert "sink 'broken' failed: OSError: disk full" in server.stderr
    assert "sink 'broken' lost" in server.stderr
    assert sum(e["type"] == "utterance" for e in _lines(out)) == 4


def test_each_stream_gets_the_configured_serve_source(speech, tmp_path):
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "tagged.py").write_text(TAGGED_PLUGIN)
    server = _serve("serve.source=tagged", plugins_dir=plugins)
    try:
        # a source that fails to start closes that connection only, with the reason
        _, code, reason = send_audio(server.url("/audio"), speech, hello={"name": "cursed"})
        assert code == 1011
        assert reason.startswith("stream cursed: its source failed to start: RuntimeError")
        events, code, _ = send_audio(server.url("/audio"), speech, hello={"name": "kitchen"})
    finally:
        assert server.stop() == 0
    assert "Traceback" not in server.stderr, server.stderr
    assert code == 1000
    assert {e["stream"] for e in events} == {"tagged-kitchen"}
    assert sum(e["type"] == "utterance" for e in events) == 2


def test_a_bad_serve_source_or_sink_is_one_line_before_it_binds():
    result = run_cli(
        "serve",
        "--config",
        str(OFFLINE_CONFIG),
        "-o",
        "serve.source=file",
        "-o",
        'serve.sinks=["nosuch"]',
        "--port",
        "0",
        timeout=120,
    )
    assert result.returncode == 2, result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("streamemo: error: 2 problems: (1) serve.source 'file' ")
    assert "cannot take a connection's audio: it has no offer, end" in line
    assert "(2) no sink plugin named 'nosuch'" in line


def test_a_serve_source_that_breaks_the_contract_is_one_line_at_start_up(tmp_path):
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "half.py").write_text(
        "from streamemo.api import hookimpl\n\n\n"
        "class Half:  # offer() and end(), but no blocks()\n"
        "    def __init__(self, stream: str):\n        pass\n\n"
        "    def offer(self, samples):\n        return True\n\n"
        "    def end(self):\n        pass\n\n"
        "    def stop(self):\n        pass\n\n\n"
        "@hookimpl\ndef register_sources(register):\n    register('half', Half)\n"
    )
    result = run_cli(
        "--plugins-dir", str(plugins), "serve", "-o", "serve.source=half", "--port", "0"
    )
    assert result.returncode == 2, result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(
        "streamemo: error: serve.source 'half' (plugin 'plugins/half.py'): no method blocks()"
    )
