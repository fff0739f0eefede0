"""The plain-HTTP side of the servers: the dashboard's files and every refusal, answered
in the websocket handshake (``process_request``) before a connection is accepted."""

from __future__ import annotations

import dataclasses
import hmac
import http
import ipaddress
from importlib import resources
from urllib.parse import parse_qs, urlsplit

from websockets.datastructures import Headers
from websockets.http11 import Request, Response

from streamemo.serving.broadcast import SubscriptionError
from streamemo.serving.broadcast import parse_types as parse_event_types
from streamemo.serving.options import ServerOptions

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


def is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class Gate:
    """What a request gets before any handshake: a page, a refusal, or None (go on)."""

    def __init__(self, options: ServerOptions, takes_audio: bool):
        self.options = options
        self.takes_audio = takes_audio
        self._pages: dict[str, bytes] = {}

    def route(self, request: Request) -> Response | None:
        response = self._answer(request)
        if response is not None and method_of(request) == "HEAD":
            response = dataclasses.replace(response, body=b"")  # the headers of a GET
        return response

    def _answer(self, request: Request) -> Response | None:
        url = urlsplit(request.path)
        query = parse_qs(url.query)
        for name in SINGLE_HEADERS:
            if len(request.headers.get_all(name)) > 1:
                return text(400, f"more than one {name} header: send it once")
        method = method_of(request)
        if method not in ("GET", "HEAD"):
            return text(405, f"method {method} not allowed: GET or HEAD", allow="GET, HEAD")
        if not self._host_ok(request):
            return text(403, "unexpected Host header (DNS rebinding?): use the server's address")
        if not self._token_ok(request, query):
            return text(401, "a valid token is required: add ?token=... or Authorization: Bearer")
        upgrade = request.headers.get("Upgrade", "").lower() == "websocket"
        if url.path in STATIC and not upgrade:
            return self._static(url.path)
        if url.path not in ("/events", "/audio"):
            return text(404, "not found: the dashboard is /, events /events, audio /audio")
        if method != "GET":  # a websocket handshake is a GET
            return text(405, f"method {method} not allowed on {url.path}: GET", allow="GET")
        if url.path == "/audio" and not self.takes_audio:
            return text(404, "this server takes no audio: start one with `streamemo serve`")
        if not self._origin_ok(request):
            return text(403, "cross-origin connection refused: add the page to `origins`")
        if "types" in query:
            try:
                parse_event_types(query["types"][0])
            except SubscriptionError as exc:
                return text(400, f"{exc}\n")
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
                body = body.replace(b"{{AUDIO}}", b"on" if self.takes_audio else b"off")
            self._pages[name] = body
        return response(200, self._pages[name], content_type)


def method_of(request: Request) -> str:
    return getattr(request, "method", "GET")  # older websockets parse GET requests only


def response(status: int, body: bytes, content_type: str, allow: str | None = None) -> Response:
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


def text(status: int, message: str, allow: str | None = None) -> Response:
    body = (message.rstrip("\n") + "\n").encode()
    return response(status, body, "text/plain; charset=utf-8", allow)
