"""The ``/audio`` endpoint of ``streamemo serve``: connections waiting for audio, the
streams they become (each with a source built through the registry), and their limits."""

from __future__ import annotations

import asyncio
import itertools
import logging
from typing import Any

import pluggy
from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from streamemo.contract import check_factory
from streamemo.errors import one_line
from streamemo.events import StatusEvent
from streamemo.factory_options import call_factory, declared_options
from streamemo.loading import Analysers
from streamemo.plugins import PluginError, Registration, Registry
from streamemo.serving.baselines import StreamBaselines
from streamemo.serving.broadcast import BUSY, background, close_or_abort
from streamemo.serving.event_server import EventServer, close_reason
from streamemo.serving.options import ServeOptions
from streamemo.serving.session import StreamSession
from streamemo.serving.shared import SharedSinks
from streamemo.serving.wire import PcmDecoder, WireError
from streamemo.stages import Sink

log = logging.getLogger("streamemo")

IDLE = 1008  # policy: a connection that holds a place and sends no audio


class AudioStreams:
    """The ``/audio`` endpoint.

    A connection takes one of ``max_streams`` places only once it sends audio. Before
    that it waits, costing a socket and no pipeline: at most ``max_waiting`` of them (a
    newcomer closes the one that waited longest), each closed after ``hello_timeout_s``
    without a hello or audio, or ``idle_timeout_s`` after a hello. A stream that sends no
    audio for ``idle_timeout_s`` is finished and closed. So idle sockets, however many,
    never keep a real client out.
    """

    def __init__(
        self,
        config: dict[str, Any],
        pm: pluggy.PluginManager,
        analysers: Analysers | None = None,
        max_streams: int | None = None,
        options: ServeOptions | None = None,
        shared_sinks: SharedSinks | None = None,
    ):
        self.config = config
        self.pm = pm
        self.registry = Registry.collect(pm)
        self.analysers = analysers
        self.options = options or ServeOptions.from_config(config)
        self.shared_sinks = shared_sinks
        self._source = stream_source(self.registry, self.options.source)
        self.baselines = StreamBaselines(config, self.registry)  # hellos with a "baseline"
        self.max_streams = self.options.max_streams if max_streams is None else max_streams
        self.sessions: dict[str, StreamSession] = {}  # loop thread only
        self.accepting = True
        self.streaming = 0  # connections with a stream, counted against max_streams
        self.waiting: dict[ServerConnection, None] = {}  # no audio yet, oldest first
        self._numbers = itertools.count(1)

    def new_source(self, name: str) -> Any:
        """The stream's source, from the ``[serve] source`` plugin."""
        entry = self._source
        return call_factory(entry.factory, {"stream": name}, f"serve.source {entry.name!r}")

    def sinks(self) -> list[Sink]:
        """A new stream's share of the ``[serve] sinks``."""
        return self.shared_sinks.for_stream() if self.shared_sinks else []

    def _busy(self) -> str | None:
        if not self.accepting:
            return "server shutting down"
        if self.streaming >= self.max_streams:
            return f"server busy: {self.streaming} streams already (serve.max_streams)"
        return None

    async def handle(self, connection: ServerConnection, server: EventServer) -> None:
        why = self._busy()
        if why:
            await close_or_abort(connection, BUSY, why, server.close_timeout)
            return
        self._wait_in_line(connection, server)
        holder: list[StreamSession] = []
        try:
            await self._stream(connection, server, next(self._numbers), holder)
        finally:
            self.waiting.pop(connection, None)
            if holder:
                self.streaming -= 1

    def _wait_in_line(self, connection: ServerConnection, server: EventServer) -> None:
        limit = self.options.max_waiting
        if len(self.waiting) >= limit:
            oldest = next(iter(self.waiting))
            del self.waiting[oldest]
            why = f"server busy: {limit} connections sent no audio yet (serve.max_waiting)"
            log.debug("audio connection %s closed: %s", _peer(oldest), why)
            background(close_or_abort(oldest, BUSY, why, server.close_timeout))
        self.waiting[connection] = None

    async def _stream(
        self,
        connection: ServerConnection,
        server: EventServer,
        number: int,
        holder: list[StreamSession],
    ) -> None:
        decoder = PcmDecoder()
        session: StreamSession | None = None
        own: Analysers | None = None  # the analysers of the hello's baseline
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.options.hello_timeout_s
        heard = False  # a hello or audio came: the idle timeout runs, not the hello's
        try:
            while True:
                try:
                    async with asyncio.timeout_at(deadline):
                        message = await connection.recv()
                except TimeoutError:
                    await self._idle(connection, server, heard, session)
                    break
                samples = decoder.feed(message)
                if decoder.baseline is not None and own is None:  # after the hello
                    own = await self.baselines.analysers(decoder.baseline, self.analysers)
                audio = samples is not None and len(message) > 0  # an empty one is no audio
                if audio or (isinstance(message, str) and not decoder.ended):  # or the hello
                    heard = True
                    deadline = loop.time() + self.options.idle_timeout_s
                if session is None and (audio or decoder.ended):
                    session = await self._open(connection, server, decoder, number, own)
                    if session is None:
                        return  # turned away: every stream place is taken
                    holder.append(session)
                if samples is not None and session is not None:
                    await session.put(samples)
                if decoder.ended:
                    break
        except WireError as exc:
            name = session.name if session else decoder.name or f"ws-{number}"
            log.warning("stream %s: bad message: %s", name, exc.reason)
            server.publish(StatusEvent(name, "error", message=f"bad message: {exc.reason}"))
            await close_or_abort(
                connection, exc.code, close_reason(exc.reason), server.close_timeout
            )
        except ConnectionClosed:
            pass  # the client left: what it sent is still analysed and broadcast
        finally:
            if session is not None:
                session.source.offer(decoder.flush())
                session.source.end()
        if session is not None:
            await session.done

    async def _idle(
        self,
        connection: ServerConnection,
        server: EventServer,
        heard: bool,
        session: StreamSession | None,
    ) -> None:
        """No audio in time: a stream is finished (its events still go out), then closed;
        a connection without one is closed now."""
        if heard:
            why = f"idle: no audio for {self.options.idle_timeout_s:g} s (serve.idle_timeout_s)"
        else:
            seconds = self.options.hello_timeout_s
            why = f"idle: no hello or audio in {seconds:g} s (serve.hello_timeout_s)"
        if session is not None:
            log.info("stream %s: %s", session.name, why)
            session.close_code, session.close_text = IDLE, why
            return
        log.debug("audio connection %s closed: %s", _peer(connection), why)
        await close_or_abort(connection, IDLE, why, server.close_timeout)

    async def _open(
        self,
        connection: ServerConnection,
        server: EventServer,
        decoder: PcmDecoder,
        number: int,
        analysers: Analysers | None = None,
    ) -> StreamSession | None:
        """The connection's stream, now that audio comes; None when there is no place."""
        self.waiting.pop(connection, None)
        why = self._busy()
        if why:
            await close_or_abort(connection, BUSY, why, server.close_timeout)
            return None
        self.streaming += 1
        name = decoder.name or f"ws-{number}"
        if name in self.sessions:  # names identify streams: keep them unique
            name = f"{name}-{number}"
        try:
            session = StreamSession(
                name, connection, server, self, decoder.types, analysers, decoder.live_words
            )
        except Exception as exc:  # the source plugin failed: this stream only
            self.streaming -= 1
            message = f"stream {name}: its source failed to start: {one_line(exc)}"
            log.error("%s", message)
            server.publish(StatusEvent(name, "error", message=message))
            await close_or_abort(connection, 1011, close_reason(message), server.close_timeout)
            return None
        self.sessions[name] = session
        log.info(
            "stream %s connected from %s (%d Hz)",
            name,
            _peer(connection),
            decoder.sample_rate,
        )
        return session

    def finish_all(self) -> list[StreamSession]:
        """Stop taking audio; what each stream already sent is still analysed."""
        self.accepting = False
        sessions = list(self.sessions.values())
        for session in sessions:
            session.close_code, session.close_text = 1001, "server shutting down"
            session.source.end()
        return sessions


def _peer(connection: ServerConnection) -> str:
    peer = connection.remote_address
    return f"{peer[0]}:{peer[1]}" if peer else "?"


def stream_source(registry: Registry, name: str) -> Registration:
    """The ``[serve] source`` plugin, if it can take a connection's audio: its factory
    takes ``stream`` (the stream's name) and its sources have ``offer`` and ``end``."""
    entry = registry.get("source", name)
    check_factory("source", entry.factory, f"serve.source {name!r} (plugin {entry.plugin!r})")
    lacks = [m for m in ("offer", "end") if not callable(getattr(entry.factory, m, None))]
    declared = declared_options(entry.factory)
    if declared is not None and "stream" not in declared[0] and not declared[1]:
        lacks.append("a stream= option")
    if lacks:
        raise PluginError(
            f"serve.source {name!r} (plugin {entry.plugin!r}) cannot take a connection's "
            f"audio: it has no {', '.join(lacks)} (see `streamemo serve --help`)"
        )
    return entry
