"""The ``ws`` sink: ``--sink ws://127.0.0.1:8765`` serves events and the live dashboard.

Events go to every client of ``ws://HOST:PORT/events`` as the jsonl sink's JSON,
one text message each; ``http://HOST:PORT/`` is the dashboard. ``write`` only
hands the event to the server's thread, so no client can slow the pipeline.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

from streamemo.api import ConfigError, Event, Sink, hookimpl
from streamemo.serving.event_server import EventServer
from streamemo.serving.options import ServerOptions

log = logging.getLogger("streamemo")

DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 8765


def server_options(target: str | None, options: dict[str, Any]) -> ServerOptions:
    """The server's options for ``--sink ws://HOST:PORT`` and its ``[sink.ws]`` table."""
    for key in ("host", "port"):
        if key in options:
            raise ConfigError(
                f"sink.ws.{key}: the address goes in the spec, e.g. --sink ws://HOST:PORT"
            )
    host, port = parse_target(target)
    return ServerOptions.build({**options, "host": host, "port": port}, "sink 'ws'", "sink.ws")


def parse_target(target: str | None) -> tuple[str, int]:
    """``//127.0.0.1:8765`` (from ``ws://...``), ``//:9000``, ``localhost:9000`` -> host, port."""
    if not target:
        return DEFAULT_HOST, DEFAULT_PORT
    text = target if target.startswith("//") else "//" + target
    try:
        url = urlsplit(text)
        port = url.port
    except ValueError as exc:
        raise ConfigError(f"bad ws sink address {target!r} ({exc}): use ws://HOST:PORT") from None
    if url.path not in ("", "/", "/events") or url.query or url.fragment:
        raise ConfigError(
            f"bad ws sink address {target!r}: use ws://HOST:PORT (events are on /events)"
        )
    return url.hostname or DEFAULT_HOST, DEFAULT_PORT if port is None else port


class WsSink(Sink):
    """Options: ``target`` (from the spec) and every key of
    ``streamemo.serving.options.ServerOptions`` but the address (``[sink.ws]``)."""

    event_types = None  # everything: the dashboard shows partials too

    def __init__(self, target: str | None = None, **options: Any):
        self.server = EventServer(
            server_options(target, options), port_hint="pick another port: --sink ws://HOST:PORT"
        )
        self.server.start()
        log.info(
            "dashboard on %s (events: %s)", self.server.url("/"), self.server.url("/events", True)
        )

    @staticmethod
    def preflight(*, target: str | None, **options: Any) -> None:
        """Before anything loads: the address parses and the options are the server's
        (a busy port shows when it binds)."""
        server_options(target, options)

    def write(self, event: Event) -> None:
        self.server.publish(event)

    def close(self) -> None:
        self.server.close()


@hookimpl
def register_sinks(register):
    register("ws", WsSink)
