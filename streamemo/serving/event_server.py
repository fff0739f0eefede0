"""The websocket server behind ``--sink ws://`` and ``streamemo serve``.

One port, three routes: the dashboard page on ``/`` (plain HTTP, answered in the
handshake's ``process_request``), events out on ``/events`` and, with ``serve``,
audio in on ``/audio``. The asyncio loop runs on a thread of its own; other
threads hand it work with ``publish`` and ``call``, which never block.
"""

from __future__ import annotations

import asyncio
import dataclasses
import errno
import hmac
import http
import ipaddress
import logging
import socket
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from streamemo.errors import ConfigError, StreamemoError
from streamemo.events import Event, event_to_json
from streamemo.serving.broadcast import (
    INVALID,
    Hub,
    Subscriber,
    SubscriptionError,
    close_or_abort,
    parse_subscription,
)
from streamemo.serving.broadcast import parse_types as parse_event_types

log = logging.getLogger("streamemo")

STATIC = {  # path -> (file in streamemo/web, content type)
    "/": ("dashboard.html", "text/html; charset=utf-8"),
    "/index.html": ("dashboard.html", "text/html; charset=utf-8"),
    "/pcm-worklet.js": ("pcm-worklet.js", "text/javascript; charset=utf-8"),
}
# the page is self-contained: it may talk to this server and nothing else
CSP = (
    "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'unsafe-inline'; "
    "connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'"
)
LOOPBACK_NAMES = {"localhost", "localhost.", "ip6-localhost"}
# headers a request may carry once: with two, which one the checks read is a guess
SINGLE_HEADERS = ("Host", "Authorization", "Origin", "Upgrade")
BUSY = 1013  # try again later


@dataclass
class ServerOptions:
    """``[sink.ws]`` and ``[serve]`` keys shared by both servers."""

    host: str = "127.0.0.1"
    port: int = 8765
    token: str | None = None  # required from every client when set (?token= or Bearer)
    max_queue: int = 256  # events a client may fall behind before it is disconnected
    max_message_bytes: int = 256 * 1024  # any larger incoming message closes that connection
    history: int = 100  # recent utterance/status events sent first to a new /events client
    max_event_clients: int = 64  # /events connections at once; more are turned away (1013)
    origins: list[str] = field(default_factory=list)  # other pages allowed to connect
    tls_cert: str | None = None  # PEM files: https/wss (browsers give the mic only
    tls_key: str | None = None  # to https pages, or to http://localhost)

    def __post_init__(self) -> None:
        if not isinstance(self.port, int) or not 0 <= self.port <= 65535:
            raise ConfigError(f"port must be a number 0-65535, not {self.port!r}")
        if not isinstance(self.max_queue, int) or self.max_queue < 1:
            raise ConfigError(f"max_queue must be at least 1, not {self.max_queue!r}")
        if not isinstance(self.max_message_bytes, int) or self.max_message_bytes < 1024:
            raise ConfigError(
                f"max_message_bytes must be at least 1024, not {self.max_message_bytes!r}"
            )
        if not isinstance(self.max_event_clients, int) or self.max_event_clients < 1:
            raise ConfigError(
                f"max_event_clients must be at least 1, not {self.max_event_clients!r}"
            )
        if bool(self.tls_cert) != bool(self.tls_key):
            raise ConfigError("tls_cert and tls_key go together: set both or neither")
        if isinstance(self.origins, str):
            self.origins = [self.origins]
        self.token = str(self.token) if self.token not in (None, "") else None


class AudioEndpoint(Protocol):
    """What ``serve`` plugs in at ``/audio``."""

    async def handle(self, connection: ServerConnection, server: EventServer) -> None: ...


def close_reason(text: str) -> str:
    """A websocket close reason holds at most 123 bytes."""
    data = text.encode()
    return text if len(data) <= 123 else data[:120].decode(errors="ignore") + "..."


def is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


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
        self._pages: dict[str, bytes] = {}
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
        response = self._answer(request)
        if response is not None and _method(request) == "HEAD":
            response = dataclasses.replace(response, body=b"")  # the headers of a GET
        return response

    def _answer(self, request: Request) -> Response | None:
        url = urlsplit(request.path)
        query = parse_qs(url.query)
        for name in SINGLE_HEADERS:
            if len(request.headers.get_all(name)) > 1:
                return _text(400, f"more than one {name} header: send it once")
        method = _method(request)
        if method not in ("GET", "HEAD"):
            return _text(405, f"method {method} not allowed: GET or HEAD", allow="GET, HEAD")
        if not self._host_ok(request):
            return _text(403, "unexpected Host header (DNS rebinding?): use the server's address")
        if not self._token_ok(request, query):
            return _text(401, "a valid token is required: add ?token=... or Authorization: Bearer")
        upgrade = request.headers.get("Upgrade", "").lower() == "websocket"
        if url.path in STATIC and not upgrade:
            return self._static(url.path)
        if url.path not in ("/events", "/audio"):
            return _text(404, "not found: the dashboard is /, events /events, audio /audio")
        if method != "GET":  # a websocket handshake is a GET
            return _text(405, f"method {method} not allowed on {url.path}: GET", allow="GET")
        if url.path == "/audio" and self.audio is None:
            return _text(404, "this server takes no audio: start one with `streamemo serve`")
        if not self._origin_ok(request):
            return _text(403, "cross-origin connection refused: add the page to `origins`")
        if "types" in query:
            try:
                parse_event_types(query["types"][0])
            except SubscriptionError as exc:
                return _text(400, f"{exc}\n")
        return None  # a websocket: go on with the handshake (426 if it is not one)

    def _token_ok(self, request: Request, query: dict[str, list[str]]) -> bool:
        expected = self.options.token
        if expected is None:
            return True
        given = query.get("token", [None])[0]
        auth = request.headers.get("Authorization", "")
        if given is None and auth[:7].lower() == "bearer ":
            given = auth[7:].strip()
        return given is not None and hmac.compare_digest(given.encode(), expected.encode())

    def _host_ok(self, request: Request) -> bool:
        # A server on loopback answers only to loopback names: a page on another site
        # that rebinds its own name to 127.0.0.1 must not read the events.
        if not is_loopback(self.options.host):
            return True
        host = urlsplit("//" + request.headers.get("Host", "")).hostname or ""
        return is_loopback(host)

    def _origin_ok(self, request: Request) -> bool:
        origin = request.headers.get("Origin")
        if origin is None or origin in self.options.origins:
            return True  # not a browser, or a page the config allows
        return urlsplit(origin).netloc.lower() == request.headers.get("Host", "").lower()

    def _static(self, path: str) -> Response:
        name, content_type = STATIC[path]
        if name not in self._pages:
            body = (resources.files("streamemo") / "web" / name).read_bytes()
            if name == "dashboard.html":
                body = body.replace(b"{{AUDIO}}", b"on" if self.audio else b"off")
            self._pages[name] = body
        return _response(200, self._pages[name], content_type)

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


def _method(request: Request) -> str:
    return getattr(request, "method", "GET")  # older websockets parse GET requests only


def _response(status: int, body: bytes, content_type: str, allow: str | None = None) -> Response:
    headers = Headers(
        [
            ("Content-Type", content_type),
            ("Content-Length", str(len(body))),
            ("Cache-Control", "no-store"),
            ("X-Content-Type-Options", "nosniff"),
            ("Referrer-Policy", "no-referrer"),  # the token may be in the URL
            ("Content-Security-Policy", CSP),
            ("Connection", "close"),
        ]
    )
    if allow:
        headers["Allow"] = allow
    return Response(status, http.HTTPStatus(status).phrase, headers, body)


def _text(status: int, message: str, allow: str | None = None) -> Response:
    body = (message.rstrip("\n") + "\n").encode()
    return _response(status, body, "text/plain; charset=utf-8", allow)
