"""What the lifecycle hooks receive: one stream's public face, not the engine.

``streamemo_startup(run)`` is called once the stream's stages are built, before audio
flows; ``streamemo_shutdown(run)`` after the last event has reached every sink. The
same ``Run`` is handed to both, so a plugin may keep it (to call ``stop()`` later, say).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any


class Run:
    """One stream as plugins see it: its name, its configuration, its counters so far,
    and a way to end it.

    ``stream``: the name its events carry. ``config``: the run's whole configuration
    (read-only). ``counters``: a fresh snapshot on every read (utterances, errors,
    the source's own counts...). ``stop()``: stop capturing; what was captured is still
    analysed and delivered, as with Ctrl-C. Safe to call from any thread, more than once.
    """

    __slots__ = ("_config", "_counters", "_stop", "_stream")

    def __init__(
        self,
        stream: str,
        config: Mapping[str, Any],
        counters: Callable[[], dict[str, Any]],
        stop: Callable[[], None],
    ):
        self._stream = stream
        self._config = _frozen(config)
        self._counters = counters
        self._stop = stop

    @property
    def stream(self) -> str:
        return self._stream

    @property
    def config(self) -> Mapping[str, Any]:
        return self._config

    @property
    def counters(self) -> dict[str, Any]:
        return dict(self._counters())

    def stop(self) -> None:
        self._stop()

    def __repr__(self) -> str:
        return f"Run(stream={self._stream!r})"


def _frozen(value: Any) -> Any:
    """A read-only copy: tables become read-only mappings, lists tuples."""
    if isinstance(value, Mapping):
        return MappingProxyType({key: _frozen(item) for key, item in value.items()})
    if isinstance(value, list | tuple):
        return tuple(_frozen(item) for item in value)
    return value
