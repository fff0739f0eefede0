"""The servers' options: ``[sink.ws]`` and ``[serve]``, each key declared once, here."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import Any

from streamemo.errors import ConfigError
from streamemo.factory_options import call_factory

TOKEN_VARIABLE = "STREAMEMO_TOKEN"  # a token kept out of the process list and config files


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

    @classmethod
    def build(cls, options: dict[str, Any], where: str, key: str) -> Any:
        """The options of a config table (``where``: ``[serve]``, ``sink 'ws'``), checked
        key by key; without a ``token``, the one in ``$STREAMEMO_TOKEN``, if set."""
        options = dict(options)
        if not options.get("token") and os.environ.get(TOKEN_VARIABLE):
            options["token"] = os.environ[TOKEN_VARIABLE]
        return call_factory(cls, options, where, key=key)


@dataclass
class ServeOptions(ServerOptions):
    """The ``[serve]`` table: the server's options, the source each stream gets and the
    sinks every stream shares, and limits on streams and idling."""

    # the source plugin built for each /audio stream (configs/default.toml names it)
    source: str = ""
    # sink specs built once and shared by every stream, e.g. ["jsonl:all.jsonl"]
    sinks: list[str] = field(default_factory=list)
    max_streams: int = 8  # connections that send audio, each with its own pipeline
    hello_timeout_s: float = 10.0  # a connection that sends neither a hello nor audio
    idle_timeout_s: float = 30.0  # a stream, or a hello, followed by no audio for this long
    max_waiting: int = 128  # connections with no audio yet; past it the oldest is closed
    # calls from different streams to a shared model, run as one batch (coalesce.py):
    # at most batch_max inputs (1: each call alone), a free model waiting batch_window_ms
    batch_max: int = 8
    batch_window_ms: float = 10.0

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.source or not isinstance(self.source, str):
            raise ConfigError(
                f"serve.source must name the source plugin of each stream, not {self.source!r}"
            )
        for key in ("max_streams", "max_waiting", "batch_max"):
            value = getattr(self, key)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ConfigError(f"serve.{key} must be a whole number, at least 1, not {value!r}")
        for key in ("hello_timeout_s", "idle_timeout_s"):
            value = getattr(self, key)
            if not _number(value) or value <= 0:
                raise ConfigError(f"serve.{key} must be a number of seconds above 0, not {value!r}")
        window = self.batch_window_ms
        if not _number(window) or not 0 <= window <= 1000:
            raise ConfigError(
                f"serve.batch_window_ms must be a number of milliseconds 0-1000, not {window!r}"
            )

    @classmethod
    def from_config(cls, config: dict[str, Any], **given: Any) -> ServeOptions:
        """The config's ``[serve]`` table, with ``given`` (``--host``, ``--port``) over it."""
        section = dict(config.get("serve") or {})
        section.update({k: v for k, v in given.items() if v is not None})
        return cls.build(section, "[serve]", "serve")


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
