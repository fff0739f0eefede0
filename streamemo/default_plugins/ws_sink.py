"""The ``ws`` sink: ``--sink ws://127.0.0.1:8765`` serves events and the live dashboard.

Events go to every client of ``ws://HOST:PORT/events`` as the jsonl sink's JSON,
one text message each; ``http://HOST:PORT/`` is the dashboard. ``write`` only
hands the event to the server's thread, so no client can slow the pipeline.
"""

from __future__ import annotations

import logging
import os
from typing import Any
from urllib.parse import urlsplit

from streamemo import hookimpl
from streamemo.errors import ConfigError
from streamemo.events import Event
from streamemo.serving.event_server import EventServer, ServerOptions

log = logging.getLogger("streamemo")

DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 8765


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


class WsSink:
    event_types = None  # everything: the dashboard shows partials too

    def __init__(
        self,
        target: str | None = None,
        token: str | None = None,
        max_queue: int = 256,
        max_message_bytes: int = 256 * 1024,
        history: int = 100,
        max_event_clients: int = 64,
        origins: list[str] | None = None,
        tls_cert: str | None = None,
        tls_key: str | None = None,
    ):
        host, port = parse_target(target)
        options = ServerOptions(
            host=host,
            port=port,
            token=token or os.environ.get("STREAMEMO_TOKEN"),
            max_queue=max_queue,
            max_message_bytes=max_message_bytes,
            history=history,
            max_event_clients=max_event_clients,
            origins=list(origins or []),
            tls_cert=tls_cert,
            tls_key=tls_key,
        )
        self.server = EventServer(options, port_hint="pick another port: --sink ws://HOST:PORT")
        self.server.start()
        log.info(
            "dashboard on %s (events: %s)", self.server.url("/"), self.server.url("/events", True)
        )

    @staticmethod
    def preflight(*, target: str | None, **_options: Any) -> None:
        """Before anything loads: the address parses (a busy port shows when it binds)."""
        parse_target(target)

    def write(self, event: Event) -> None:
        self.server.publish(event)

    def close(self) -> None:
        self.server.close()


@hookimpl
def register_sinks(register):
    register("ws", WsSink)
