"""Helpers for the websocket tests: a `streamemo serve` child process, audio clients, a
raw client that never reads, and headless Chromium (the system's, driven by Playwright)."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
from websockets.client import ClientProtocol
from websockets.exceptions import ConnectionClosed
from websockets.frames import Close, Opcode
from websockets.http11 import Response
from websockets.protocol import State
from websockets.sync.client import connect
from websockets.uri import parse_uri

from tests.conftest import REPO, hangup_as_from_a_terminal, missing

CHROMIUM = Path("/usr/bin/chromium")
# what this machine needs: no sandbox as root, no GPU, nothing fetched in the background
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = REPO / "test-artifacts"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServeProcess:
    """`streamemo serve ... --port 0` in a child process; the port comes from its stderr."""

    def __init__(self, *args: str, timeout: float = 180, plugins_dir: Path | None = None):
        self.lines: list[str] = []
        before = ["--plugins-dir", str(plugins_dir)] if plugins_dir else []
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streamemo", *before, "serve", *args, "--port", "0"],
            cwd=REPO,
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            text=True,
            preexec_fn=hangup_as_from_a_terminal,
        )
        self._ready = threading.Event()
        self.base = ""
        threading.Thread(target=self._read, daemon=True).start()
        if not self._ready.wait(timeout) or not self.base:
            self.stop()
            raise AssertionError("streamemo serve did not start:\n" + self.stderr)

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line)
            found = re.search(r"serving on http://([^/]+)/", line)
            if found:
                self.base = found.group(1)
                self._ready.set()
        self._ready.set()

    @property
    def stderr(self) -> str:
        return "".join(self.lines)

    def url(self, path: str, websocket: bool = True) -> str:
        return f"{'ws' if websocket else 'http'}://{self.base}{path}"

    def stop(self, timeout: float = 60) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


class EventsClient:
    """A websocket client on /events that reads everything on a thread of its own."""

    def __init__(self, url: str):
        self.messages: list[str] = []
        self.closed: ConnectionClosed | None = None
        self._stack = contextlib.ExitStack()
        self.ws = self._stack.enter_context(connect(url, max_size=None))
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            while True:
                self.messages.append(self.ws.recv())
        except ConnectionClosed as exc:
            self.closed = exc

    def events(self, stream: str | None = None) -> list[dict]:
        events = [json.loads(m) for m in list(self.messages)]
        return [e for e in events if stream is None or e["stream"] == stream]

    def wait_for(self, predicate, timeout: float = 60) -> list[dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            events = self.events()
            if predicate(events):
                return events
            time.sleep(0.05)
        raise AssertionError(f"timed out; got {len(self.events())} events")

    def close(self) -> None:
        self._stack.close()
        self._thread.join(10)


def send_audio(
    url: str,
    samples: np.ndarray,
    *,
    hello: dict | None = None,
    chunk: int = 8000,
    realtime_rate: int | None = None,
    end: bool = True,
    timeout: float = 60,
) -> tuple[list[dict], int | None, str]:
    """Stream int16 samples to /audio (a thread sends, this one reads the events back).

    Returns the events, the close code and the close reason."""
    events: list[dict] = []
    with connect(url, max_size=None, close_timeout=timeout) as ws:
        if hello is not None:
            ws.send(json.dumps({"type": "hello", **hello}))

        def send() -> None:
            started = time.monotonic()
            with contextlib.suppress(ConnectionClosed):
                for i in range(0, len(samples), chunk):
                    if realtime_rate:  # pace it like a microphone
                        delay = started + i / realtime_rate - time.monotonic()
                        if delay > 0:
                            time.sleep(delay)
                    ws.send(samples[i : i + chunk].astype("<i2").tobytes())
                if end:
                    ws.send(json.dumps({"type": "end"}))

        sender = threading.Thread(target=send, daemon=True)
        sender.start()
        try:
            while True:
                events.append(json.loads(ws.recv(timeout=timeout)))
        except ConnectionClosed as exc:
            sender.join(timeout)
            return events, exc.rcvd.code if exc.rcvd else None, exc.rcvd.reason if exc.rcvd else ""


def close_of(url: str, *messages: str | bytes, timeout: float = 30) -> tuple[int | None, str]:
    """Send ``messages`` and read until the server closes: its close code and reason."""
    with connect(url, max_size=None) as ws:
        with contextlib.suppress(ConnectionClosed):
            for message in messages:
                ws.send(message)
        try:
            while True:
                ws.recv(timeout=timeout)
        except ConnectionClosed as exc:
            return (exc.rcvd.code, exc.rcvd.reason) if exc.rcvd else (None, "")
    raise AssertionError("unreachable")


class RawClient:
    """A websocket client on a plain socket that reads nothing until ``drain`` (websockets'
    sans-I/O protocol does the handshake and the parsing): the stalled client."""

    def __init__(self, url: str, rcvbuf: int = 4096):
        parts = urlsplit(url)
        self.protocol = ClientProtocol(parse_uri(url), max_size=None)
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)  # a small window
        self.sock.connect((parts.hostname, parts.port))
        self.protocol.send_request(self.protocol.connect())
        self._flush()
        self.messages: list[str] = []
        while self.protocol.state is State.CONNECTING:
            self._receive(self.sock.recv(4096))
        assert self.protocol.state is State.OPEN, self.protocol.handshake_exc

    def _flush(self) -> None:
        for data in self.protocol.data_to_send():
            if data:
                self.sock.sendall(data)

    def _receive(self, data: bytes) -> None:
        if data:
            self.protocol.receive_data(data)
        else:
            self.protocol.receive_eof()
        for event in self.protocol.events_received():
            if isinstance(event, Response):
                continue
            if event.opcode is Opcode.TEXT:
                self.messages.append(event.data.decode())
        self._flush()

    def drain(self, timeout: float = 10) -> Close | None:
        """Read everything the server sent; the close frame it ended with, if any."""
        self.sock.settimeout(timeout)
        with contextlib.suppress(OSError):
            while self.protocol.close_rcvd is None:
                data = self.sock.recv(1 << 16)
                self._receive(data)
                if not data:
                    break
        self.sock.close()
        return self.protocol.close_rcvd


def need_chromium() -> None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing("needs the playwright package (pip install playwright; never `playwright install`)")
    if not CHROMIUM.exists() and not shutil.which("chromium"):
        missing("needs chromium (apt-get install chromium)")


@contextlib.contextmanager
def chromium_page(playwright, profile: Path, *flags: str) -> Iterator:
    """A page in headless Chromium with a fresh profile; uncaught page errors are collected."""
    context = playwright.chromium.launch_persistent_context(
        str(profile),  # a fresh --user-data-dir
        executable_path=str(CHROMIUM if CHROMIUM.exists() else shutil.which("chromium")),
        headless=True,
        args=[*CHROMIUM_FLAGS, *flags],
        viewport={"width": 1280, "height": 900},
        env={**os.environ, "TZ": "UTC"},
    )
    try:
        page = context.new_page()
        page.errors = []
        page.on("pageerror", lambda exc: page.errors.append(str(exc)))
        yield page
    finally:
        context.close()
