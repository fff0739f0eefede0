"""``streamemo diary serve``'s server: the dashboard on its diary view and a read-only
JSON API over one diary, on this machine only.

    /                          the dashboard, opened on the diary view
    /diary.js                  the diary view's script
    /api/diary                 the diary's name, entry count, first and last day
    /api/diary/days            entries grouped by day (?since=&until=YYYY-MM-DD)
    /api/diary/periods         the mood chart's periods (?by=auto|day|week|month)
    /api/diary/entries/ID      one entry's utterances (404 JSON for an unknown id)

It binds a loopback address only, and answers only requests whose Host is a loopback
name (a page elsewhere that rebinds its name to 127.0.0.1 must not read the diary). The
standard library's threading server; one diary connection behind a lock.
"""

from __future__ import annotations

import json
import socket
import sqlite3
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any
from urllib.parse import parse_qs, urlsplit

from streamemo.diary import web_json
from streamemo.diary.commands.listing import day
from streamemo.diary.store import Diary, DiaryError
from streamemo.serving.gate import CSP, is_loopback

PAGES = {  # path -> (file in streamemo/web, content type)
    "/": ("dashboard.html", "text/html; charset=utf-8"),
    "/index.html": ("dashboard.html", "text/html; charset=utf-8"),
    "/diary.js": ("diary.js", "text/javascript; charset=utf-8"),
}


def page(name: str) -> bytes:
    body = (resources.files("streamemo") / "web" / name).read_bytes()
    if name == "dashboard.html":  # the diary view, and no microphone: this server takes none
        body = body.replace(b"{{AUDIO}}", b"off").replace(b"<body ", b'<body data-diary="on" ', 1)
    return body


class DiaryServer(ThreadingHTTPServer):
    daemon_threads = True  # a slow client never holds up the end

    def __init__(self, diary: Diary, host: str, port: int):
        self.diary = diary
        self.lock = threading.Lock()  # one connection, one request at a time on it
        self.pages = {name: page(name) for name, _ in PAGES.values()}
        if ":" in host:
            self.address_family = socket.AF_INET6
        super().__init__((host, port), Handler)

    def url(self, path: str = "/") -> str:
        host, port = self.server_address[:2]
        return f"http://{f'[{host}]' if ':' in str(host) else host}:{port}{path}"


class Handler(BaseHTTPRequestHandler):
    server: DiaryServer
    protocol_version = "HTTP/1.1"

    def do_HEAD(self) -> None:
        self._answer(head=True)

    def do_GET(self) -> None:
        self._answer(head=False)

    def _read_only(self) -> None:
        self.close_connection = True
        self._send(405, _json({"error": f"{self.command} not allowed: the diary is read only"}),
                   False, allow="GET, HEAD")  # fmt: skip

    do_POST = do_PUT = do_PATCH = do_DELETE = _read_only

    def _answer(self, head: bool) -> None:
        if len(self.headers.get_all("Host") or []) != 1:
            return self._send(400, _json({"error": "send one Host header"}), head)
        host = urlsplit("//" + (self.headers.get("Host") or "")).hostname or ""
        if not is_loopback(host):
            return self._send(403, _json({"error": "unexpected Host (DNS rebinding?)"}), head)
        url = urlsplit(self.path)
        if url.path in PAGES:
            name, kind = PAGES[url.path]
            return self._send(200, self.server.pages[name], head, kind)
        if not url.path.startswith("/api/diary"):
            return self._send(404, _json({"error": f"not found: {url.path}"}), head)
        status, body = self._api(url.path, parse_qs(url.query))
        self._send(status, _json(body), head)

    def _api(self, path: str, query: dict[str, list[str]]) -> tuple[int, Any]:
        try:
            since, until = _span(query)
            with self.server.lock:
                diary = self.server.diary
                if path == "/api/diary":
                    return 200, web_json.overview(diary)
                if path == "/api/diary/days":
                    return 200, web_json.days(diary, since, until)
                if path == "/api/diary/periods":
                    return 200, web_json.chart(diary, query.get("by", ["auto"])[0], since, until)
                prefix = "/api/diary/entries/"
                if path.startswith(prefix) and path[len(prefix) :].isdigit():
                    return 200, web_json.entry(diary, int(path[len(prefix) :]))
        except DiaryError as exc:
            return (404 if "no diary entry" in str(exc) else 400), {"error": str(exc)}
        except sqlite3.Error as exc:  # e.g. the file went away: this request fails, not the server
            return 500, {"error": f"cannot read the diary: {exc}"}
        return 404, {"error": f"not found: {path}"}

    def _send(self, status: int, body: bytes, head: bool, kind: str = "", allow: str = "") -> None:
        self.send_response(status)
        if allow:
            self.send_header("Allow", allow)
        for name, value in (
            ("Content-Type", kind or "application/json; charset=utf-8"),
            ("Content-Length", str(len(body))),
            ("Cache-Control", "no-store"),
            ("X-Content-Type-Options", "nosniff"),
            ("Referrer-Policy", "no-referrer"),
            ("Content-Security-Policy", CSP),
        ):
            self.send_header(name, value)
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # not a line per request on the terminal


def _span(query: dict[str, list[str]]) -> tuple[float | None, float | None]:
    since, until = query.get("since", [""])[0], query.get("until", [""])[0]
    return (
        day(since, "since") if since else None,
        day(until, "until", after=True) if until else None,
    )


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
