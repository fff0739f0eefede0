"""`streamemo serve`: audio in over websockets, each connection its own stream."""

import json
import socket
import threading

import numpy as np
import pytest
import soxr
from websockets.sync.client import connect

from streamemo.audio_io import read_all
from streamemo.config import load_config
from streamemo.loading import Analysers
from streamemo.plugins import Registry, get_plugin_manager
from streamemo.serving.event_server import EventServer
from streamemo.serving.options import ServerOptions
from streamemo.serving.shared import shared_analysers
from streamemo.serving.streams import AudioStreams
from tests.conftest import OFFLINE_CONFIG, run_cli, shared
from tests.wer import wer
from tests.ws_helpers import EventsClient, ServeProcess, close_of, send_audio

# the segmenter alone: the wire format and the stream handling, with no model to wait for
NO_MODELS = ["transcriber.enabled=false", "audio.enabled=false", "text.enabled=false"]


@pytest.fixture(scope="module")
def diary():
    truth = json.loads(shared("audio/en/en_diary.json").read_text())["utterances"]
    return read_all(shared("audio/en/en_diary.wav")), truth


@pytest.fixture
def light_server():
    """An in-process server whose pipelines only segment (no models)."""
    config = load_config(OFFLINE_CONFIG, NO_MODELS)
    pm = get_plugin_manager()
    streams = AudioStreams(config, pm, max_streams=3)
    server = EventServer(ServerOptions(port=0), audio=streams)
    streams.analysers = shared_analysers(Analysers.build(config, Registry.collect(pm)))
    server.start()
    yield server
    server.close()


def _utterances(events: list[dict]) -> list[dict]:
    return [e for e in events if e["type"] == "utterance"]


def _check_boundaries(utterances: list[dict], truth: list[dict]) -> None:
    assert len(utterances) == len(truth)
    for event, t in zip(utterances, truth, strict=True):
        assert abs(event["start"] - t["start"]) <= 0.3, (event, t)
        assert abs(event["end"] - t["end"]) <= 0.3, (event, t)


def test_a_stream_gets_its_events_back_and_every_events_client_too(serve_server, diary):
    audio, truth = diary
    watcher = EventsClient(serve_server.url("/events"))
    events, code, reason = send_audio(serve_server.url("/audio"), audio, hello={"name": "diary"})
    assert (code, reason) == (1000, "end of stream")
    assert events[0]["type"] == "status" and events[0]["state"] == "started"
    assert events[-1]["state"] == "stopped" and events[-1]["counters"]["utterances"] == 10
    utterances = _utterances(events)
    assert [u["id"] for u in utterances] == list(range(1, 11))
    assert {u["stream"] for u in utterances} == {"diary"}
    _check_boundaries(utterances, truth)
    assert wer([t["text"] for t in truth], [u["text"] for u in utterances]) < 0.15
    assert all(u["text_emotion"] and u["audio_emotion"] and u["emotion"] for u in utterances)
    # the same events, as the same JSON, reached the /events client
    # (another stream's "stopped" may be in the replayed history: wait for this one's)
    seen = watcher.wait_for(
        lambda got: any(e.get("state") == "stopped" and e["stream"] == "diary" for e in got)
    )
    mine = [e for e in seen if e["stream"] == "diary" and e["type"] != "partial"]
    assert mine == [e for e in events if e["type"] != "partial"]
    watcher.close()


def test_concurrent_streams_share_the_models_and_keep_their_own_state(serve_server, diary):
    audio, truth = diary
    first = audio[: int(21.5 * 16000)]  # the first five utterances
    # one client sends 16 kHz, the other 44.1 kHz (resampled back by the server)
    at_44k = soxr.resample(first.astype(np.float32) / 32768, 16000, 44100)
    at_44k = np.clip(np.round(at_44k * 32768), -32768, 32767).astype(np.int16)
    results = {}

    def client(name: str, samples: np.ndarray, rate: int) -> None:
        hello = {"name": name, "sample_rate": rate}
        results[name] = send_audio(serve_server.url("/audio"), samples, hello=hello, chunk=4000)

    threads = [
        threading.Thread(target=client, args=("a16k", first, 16000)),
        threading.Thread(target=client, args=("b44k", at_44k, 44100)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    for name in ("a16k", "b44k"):
        events, code, _ = results[name]
        assert code == 1000
        utterances = _utterances(events)
        assert {u["stream"] for u in utterances} == {name}
        _check_boundaries(utterances, truth[:5])
        assert wer([t["text"] for t in truth[:5]], [u["text"] for u in utterances]) < 0.15


def test_bad_messages_close_that_connection_with_a_reason(light_server, diary):
    audio, truth = diary
    url = light_server.url("/audio", True)
    watcher = EventsClient(light_server.url("/events", True))
    cases = [
        (("hello?",), 1003, "text messages are"),
        ((b"\x01\x02\x03",), 1007, "audio message of 3 bytes: 16-bit PCM needs an even byte count"),
        ((json.dumps({"type": "hello", "sample_rate": 5}),), 1007, "sample_rate must be"),
        ((json.dumps({"type": "hello", "rate": 8000}),), 1007, "unknown hello key(s) rate"),
        ((json.dumps({"type": "hello", "name": "a b"}),), 1007, "name: 1-64 letters"),
        ((b"\x00\x00", json.dumps({"type": "hello"})), 1003, "the hello must be the first"),
    ]
    for messages, code, reason in cases:
        got = close_of(url, *messages)
        assert got[0] == code and reason in got[1], got

    def errors(got: list[dict]) -> list[dict]:
        return [e for e in got if e["state"] == "error"]

    reported = errors(watcher.wait_for(lambda got: len(errors(got)) == len(cases)))
    assert all(e["message"].startswith("bad message: ") for e in reported)
    # the server is fine: the next stream is cut as it should be
    events, code, _ = send_audio(url, audio)
    assert code == 1000
    _check_boundaries(_utterances(events), truth)
    watcher.close()


def test_a_client_that_leaves_still_has_its_last_utterance_broadcast(light_server, diary):
    audio, truth = diary
    watcher = EventsClient(light_server.url("/events", True))
    # the first utterance ends at 4.35 s; leave at 4.6 s, before the segmenter has seen
    # enough silence to close it, and without saying "end"
    with connect(light_server.url("/audio", True)) as ws:
        samples = audio[: int(4.6 * 16000)]
        for i in range(0, len(samples), 1600):
            ws.send(samples[i : i + 1600].tobytes())
    got = watcher.wait_for(lambda got: any(e.get("state") == "stopped" for e in got))
    [utterance] = _utterances(got)
    assert abs(utterance["end"] - truth[0]["end"]) <= 0.3
    watcher.close()


def test_too_many_streams_are_turned_away(light_server):
    url = light_server.url("/audio", True)
    with connect(url) as one, connect(url) as two, connect(url) as three:
        for ws in (one, two, three):  # audio takes a place (a hello alone does not)
            ws.send(json.dumps({"type": "hello"}))
            ws.send(np.zeros(1600, "<i2").tobytes())
            assert json.loads(ws.recv(timeout=30))["state"] == "started"
        assert close_of(url) == (1013, "server busy: 3 streams already (serve.max_streams)")


def test_serve_on_a_busy_port_is_one_line_and_stops_cleanly_on_ctrl_c():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli("serve", "--config", str(OFFLINE_CONFIG), "--port", str(port), timeout=60)
    assert result.returncode == 2
    assert result.stderr == (
        f"streamemo: error: cannot listen on 127.0.0.1:{port}: address in use; "
        "pick another with --port\n"
    )
    overrides = [arg for key in NO_MODELS for arg in ("-o", key)]
    server = ServeProcess("--config", str(OFFLINE_CONFIG), *overrides)
    assert server.stop() == 0, server.stderr
    assert "Traceback" not in server.stderr
