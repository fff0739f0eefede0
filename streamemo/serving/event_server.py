"""The websocket server behind ``--sink ws://`` and ``streamemo serve``.

One port, three routes: the dashboard page on ``/`` (plain HTTP, answered in the
handshake's ``process_request``), events out on ``/events`` and, with ``serve``,
audio in on ``/audio``. The asyncio loop runs on a thread of its own; other
threads hand it work with ``publish`` and ``call``, which never block.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
import ssl
import threading
from collections.abc import Callable
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from streamemo.errors import ConfigError, StreamemoError
from streamemo.events import Event, event_to_json
from streamemo.serving.broadcast import (
    BUSY,
    INVALID,
    Hub,
    Subscriber,
    SubscriptionError,
    close_or_abort,
    parse_subscription,
)
from streamemo.serving.broadcast import parse_types as parse_event_types
from streamemo.serving.gate import Gate, is_loopback
from streamemo.serving.options import ServerOptions

log = logging.getLogger("streamemo")


class AudioEndpoint(Protocol):
    """What ``serve`` plugs in at ``/audio``."""

    async def handle(self, connection: ServerConnection, server: EventServer) -> None: ...


def close_reason(text: str) -> str:
    """A websocket close reason holds at most 123 bytes."""
    data = text.encode()
    return text if len(data) <= 123 else data[:120].decode(errors="ignore") + "..."


class _OneLine(logging.Filter):
    """websockets logs a bad handshake with a traceback; one line is enough here."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[1] is not None:
            record.msg = f"websocket: {record.getMessage()}: {record.exc_info[1]}"
            record.args, record.exc_info, record.exc_text = (), None, None
        return True


_WS_LOG = logging.getLogger("streamemo.websockets")
_WS_LOG.setLevel(logging.ERROR)  # not every page load and handshake at INFO
_WS_LOG.addFilter(_OneLine())


class EventServer:
    def __init__(
        self,
        options: ServerOptions,
        *,
        audio: AudioEndpoint | None = None,
        port_hint: str = "pick another port",
        close_timeout: float = 5.0,
    ):
        self.options = options
        self.audio = audio
        self.port_hint = port_hint
        self.close_timeout = close_timeout
        self.hub = Hub(options.history)
        self.loop: asyncio.AbstractEventLoop | None = None
        self._ssl = _ssl_context(options)
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._stopping: asyncio.Event | None = None
        self._failure: BaseException | None = None
        self._flush_timeout = 2.0
        self.gate = Gate(options, takes_audio=audio is not None)
        self._event_clients = 0  # open /events connections (loop thread only)

    # -- life cycle (any thread) ---------------------------------------------------
    def bind(self) -> None:
        """Take the port now, so a busy port is one clear line before any model loads."""
        host, port = self.options.host, self.options.port
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        try:
            self._sock = socket.create_server((host, port), family=family)
        except OSError as exc:
            reason = {
                errno.EADDRINUSE: "address in use",
                errno.EACCES: "permission denied",
                errno.EADDRNOTAVAIL: "no such address on this machine",
            }.get(exc.errno, exc.strerror or str(exc))
            raise StreamemoError(
                f"cannot listen on {_hostport(host, port)}: {reason}; {self.port_hint}"
            ) from None

    def start(self) -> None:
        if self._sock is None:
            self.bind()
        if not is_loopback(self.options.host) and not self.options.token:
            log.warning(
                "listening on %s without a token: anyone who can reach it can connect "
                "(set a token, see the README)",
                self.options.host,
            )
        self._thread = threading.Thread(target=self._run, name="ws-server", daemon=True)
        self._thread.start()
        self._ready.wait(30)
        if self._failure is not None:
            raise StreamemoError(f"websocket server failed to start: {self._failure}")

    def close(self, flush_timeout: float = 2.0) -> None:
        """Give every client ``flush_timeout`` to receive what is queued, then close."""
        if self._thread is None:
            return
        self._flush_timeout = flush_timeout
        if self._stopping is not None:
            self.call(self._stopping.set)
        self._thread.join(flush_timeout + self.close_timeout + 5)
        self._thread = None

    @property
    def port(self) -> int:
        assert self._sock is not None, "bind() first"
        return self._sock.getsockname()[1]

    def url(self, path: str = "/", websocket: bool = False) -> str:
        scheme = ("wss" if websocket else "https") if self._ssl else ("ws" if websocket else "http")
        return f"{scheme}://{_hostport(self.options.host, self.port)}{path}"

    # -- handing work to the loop (any thread, never blocks) ---------------------------
    def publish(self, event: Event) -> None:
        """Send ``event`` to every ``/events`` client."""
        self.call(self.hub.publish, event_to_json(event), event.type)

    def call(self, fn: Callable[..., Any], *args: Any) -> bool:
        loop = self.loop
        if loop is None or loop.is_closed():
            return False
        try:
            loop.call_soon_threadsafe(fn, *args)
        except RuntimeError:  # the loop closed in between: the server is gone
            return False
        return True

    # -- the loop thread ---------------------------------------------------------------
    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:
            self._failure = exc
            log.error("websocket server stopped: %s: %s", type(exc).__name__, exc)
        finally:
            self._ready.set()

    async def _main(self) -> None:
        self.loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        async with serve(
            self._handle,
            sock=self._sock,
            ssl=self._ssl,
            process_request=self._route,
            max_size=self.options.max_message_bytes,
            compression=None,  # PCM does not deflate, and per-client compression costs CPU
            close_timeout=self.close_timeout,
            logger=_WS_LOG,
        ) as server:
            self._ready.set()
            await self._stopping.wait()
            await self.hub.finish_all(1001, "server shutting down", self._flush_timeout)
            bye = "server shutting down"
            closing = [close_or_abort(c, 1001, bye, self.close_timeout) for c in server.connections]
            await asyncio.gather(*closing)

    def _route(self, connection: ServerConnection, request: Request) -> Response | None:
        """Plain HTTP answers and every refusal happen here, before the handshake."""
        return self.gate.route(request)

    async def _handle(self, connection: ServerConnection) -> None:
        path = urlsplit(connection.request.path).path
        if path == "/audio" and self.audio is not None:
            await self.audio.handle(connection, self)
        else:
            await self._events(connection)

    async def _events(self, connection: ServerConnection) -> None:
        limit = self.options.max_event_clients
        if self._event_clients >= limit:
            why = f"server busy: {limit} events clients already (max_event_clients)"
            await close_or_abort(connection, BUSY, why, self.close_timeout)
            return
        self._event_clients += 1
        try:
            await self._subscribe(connection)
        finally:
            self._event_clients -= 1

    async def _subscribe(self, connection: ServerConnection) -> None:
        query = parse_qs(urlsplit(connection.request.path).query)
        types = parse_event_types(query["types"][0]) if "types" in query else None
        subscriber = Subscriber(
            connection, self.options.max_queue, types, close_timeout=self.close_timeout
        )
        self.hub.add(subscriber)
        try:
            async for message in connection:  # a client only ever sends subscriptions
                try:
                    subscriber.types = parse_subscription(message)
                except SubscriptionError as exc:
                    reason = close_reason(str(exc))
                    await close_or_abort(connection, INVALID, reason, self.close_timeout)
                    break
        except ConnectionClosed:
            pass  # too big a message (1009) or the client left: this connection only
        finally:
            self.hub.remove(subscriber)


def _hostport(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _ssl_context(options: ServerOptions) -> ssl.SSLContext | None:
    if not options.tls_cert:
        return None
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_cert_chain(options.tls_cert, options.tls_key)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(
            f"cannot load tls_cert {options.tls_cert!r} / tls_key {options.tls_key!r}: {exc}"
        ) from None
    return context
