"""``streamemo serve``: audio in over websockets, events out, one port.

Each ``/audio`` connection is a stream with its own source, segmenter and
pipeline thread; the heavy models are loaded once and shared by every stream.
Every stream's events go back on its own connection and out to every
``/events`` client.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import logging
import math
import os
import sys
import threading
from dataclasses import dataclass
from typing import Any

import pluggy
from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from streamemo.config import call_factory, load_config
from streamemo.errors import ConfigError
from streamemo.events import Event, StatusEvent, event_to_json
from streamemo.pipeline import Analysers, Pipeline
from streamemo.plugins import Registry
from streamemo.preflight import check_run
from streamemo.serving.broadcast import Subscriber, background, close_or_abort
from streamemo.serving.event_server import EventServer, ServerOptions, close_reason
from streamemo.serving.net_source import NetworkSource, PcmDecoder, WireError
from streamemo.signals import on_stop_signals, quit_now, quit_on_signals

log = logging.getLogger("streamemo")

BUSY = 1013  # try again later
IDLE = 1008  # policy: a connection that holds a place and sends no audio
DRAIN_S = 120  # at Ctrl-C, how long the streams may take to finish what they were sent


@dataclass
class ServeOptions(ServerOptions):
    """The ``[serve]`` table: the server's options plus limits on streams and idling."""

    max_streams: int = 8  # connections that send audio, each with its own pipeline
    hello_timeout_s: float = 10.0  # a connection that sends neither a hello nor audio
    idle_timeout_s: float = 30.0  # a stream, or a hello, followed by no audio for this long
    max_waiting: int = 128  # connections with no audio yet; past it the oldest is closed

    def __post_init__(self) -> None:
        super().__post_init__()
        for key in ("max_streams", "max_waiting"):
            value = getattr(self, key)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ConfigError(f"serve.{key} must be a whole number, at least 1, not {value!r}")
        for key in ("hello_timeout_s", "idle_timeout_s"):
            value = getattr(self, key)
            number = isinstance(value, int | float) and not isinstance(value, bool)
            if not number or not math.isfinite(value) or value <= 0:
                raise ConfigError(f"serve.{key} must be a number of seconds above 0, not {value!r}")


class Serialised:
    """A shared analyser that takes at most ``slots`` calls at once, whichever streams make
    them; the others wait their turn, first come first served."""

    def __init__(self, target: Any, slots: int = 1):
        self._target = target
        self._slots = threading.Semaphore(max(1, slots))

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._target, name)
        if not callable(attr):
            return attr

        def limited(*args: Any, **kwargs: Any) -> Any:
            with self._slots:
                return attr(*args, **kwargs)

        return limited


def shared_analysers(analysers: Analysers) -> Analysers:
    """The models every stream uses, each limited to the calls it can run at once.

    Whole calls take turns: concurrent calls that interleave inside Whisper (or torch,
    whose threads then compete for the same cores) make every stream late at once.
    Whisper runs ``transcriber.num_workers`` transcriptions side by side; a tokenizer is
    not thread-safe, so text goes one at a time."""

    def limit(stage: Any, slots: int = 1) -> Any:
        return None if stage is None else Serialised(stage, slots)

    workers = getattr(analysers.transcriber, "num_workers", 1)
    return Analysers(
        transcriber=limit(analysers.transcriber, workers),
        text=limit(analysers.text),
        audio=limit(analysers.audio),
        fuser=analysers.fuser,  # a few multiplications, no shared state
    )


class ConnectionSink:
    """A stream's events, back to the connection that sends its audio."""

    event_types = None

    def __init__(self, server: EventServer, subscriber: Subscriber):
        self.server = server
        self.subscriber = subscriber

    def write(self, event: Event) -> None:
        self.server.call(self.subscriber.offer, event_to_json(event), event.type)

    def close(self) -> None:
        pass


class BroadcastSink:
    """A stream's events, out to every ``/events`` client."""

    event_types = None

    def __init__(self, server: EventServer):
        self.server = server

    def write(self, event: Event) -> None:
        self.server.publish(event)

    def close(self) -> None:
        pass


class StreamSession:
    """One connection's stream: its source, its pipeline thread, its reply channel."""

    def __init__(
        self,
        name: str,
        connection: ServerConnection,
        server: EventServer,
        streams: AudioStreams,
        types: frozenset[str] | None,
    ):
        self.name = name
        self.streams = streams
        self.server = server
        self.source = NetworkSource(name)
        self.reply = Subscriber(
            connection,
            server.options.max_queue,
            types,
            name=f"stream {name}",
            close_timeout=server.close_timeout,
        )
        self.loop = asyncio.get_running_loop()
        self.done: asyncio.Future[dict[str, int]] = self.loop.create_future()
        self.close_code, self.close_text = 1000, "end of stream"
        sinks = [ConnectionSink(server, self.reply), BroadcastSink(server)]
        self.thread = threading.Thread(
            target=self._run, args=(sinks,), name=f"stream-{name}", daemon=True
        )
        self.thread.start()

    async def put(self, samples) -> None:
        # The pipeline is behind: wait, and meanwhile read nothing more from this socket,
        # so TCP holds back a client that sends faster than real time.
        while not self.source.offer(samples):
            await asyncio.sleep(0.01)

    def _run(self, sinks: list[Any]) -> None:
        counters: dict[str, int] = {}
        try:
            pipeline = Pipeline(
                self.streams.config,
                self.streams.pm,
                source=self.source,
                analysers=self.streams.analysers,
                sinks=[],
                extra_sinks=sinks,
            )
            counters = pipeline.run()
        except Exception as exc:
            message = f"{type(exc).__name__}: {exc}"
            log.error("stream %s failed: %s", self.name, message)
            self.server.publish(StatusEvent(self.name, "error", message=message))
            self.close_code, self.close_text = 1011, close_reason(f"stream failed: {message}")
        finally:
            self.source.stop()
            self.server.call(self._finished, counters)

    def _finished(self, counters: dict[str, int]) -> None:
        self.reply.finish(self.close_code, self.close_text)

        async def flushed() -> None:
            await self.reply.wait(timeout=5)
            self.streams.sessions.pop(self.name, None)
            summary = " ".join(f"{k}={v}" for k, v in counters.items())
            log.info("stream %s ended %s", self.name, summary)
            if not self.done.done():
                self.done.set_result(counters)

        background(flushed())


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
    ):
        self.config = config
        self.pm = pm
        self.analysers = analysers
        self.options = options or ServeOptions()
        self.max_streams = self.options.max_streams if max_streams is None else max_streams
        self.sessions: dict[str, StreamSession] = {}  # loop thread only
        self.accepting = True
        self.streaming = 0  # connections with a stream, counted against max_streams
        self.waiting: dict[ServerConnection, None] = {}  # no audio yet, oldest first
        self._numbers = itertools.count(1)

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
                audio = samples is not None and len(message) > 0  # an empty one is no audio
                if audio or (isinstance(message, str) and not decoder.ended):  # or the hello
                    heard = True
                    deadline = loop.time() + self.options.idle_timeout_s
                if session is None and (audio or decoder.ended):
                    session = await self._open(connection, server, decoder, number)
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
        session = StreamSession(name, connection, server, self, decoder.types)
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


def serve_command(args: argparse.Namespace, pm: pluggy.PluginManager) -> int:
    """``streamemo serve [--config FILE] [-o KEY=VALUE]... [--host H] [--port P]``."""
    config = load_config(args.config, args.overrides)
    section = dict(config.get("serve") or {})
    if getattr(args, "host", None):
        section["host"] = args.host
    if getattr(args, "port", None) is not None:
        section["port"] = args.port
    if not section.get("token") and os.environ.get("STREAMEMO_TOKEN"):
        section["token"] = os.environ["STREAMEMO_TOKEN"]
    options = call_factory(ServeOptions, section, "[serve]")
    registry = Registry.collect(pm)
    quit_on_signals()  # until the models are in there is nothing to finish: leave at once
    # a bad segmenter, model or [pipeline] key fails now in one line, not per client
    check_run(config, registry, source=False)

    streams = AudioStreams(config, pm, options=options)
    server = EventServer(options, audio=streams, port_hint="pick another with --port")
    server.bind()  # before the models load: a busy port is reported at once
    stop = threading.Event()
    try:
        streams.analysers = shared_analysers(Analysers.build(config, registry, checked=True))
        server.start()
        # From now on the first Ctrl-C (or SIGTERM, SIGHUP) finishes every stream and a
        # second Ctrl-C or SIGTERM quits with os._exit: a normal exit while a stream's
        # thread is inside Whisper tears CTranslate2 down under it (exit 139). The handlers
        # stay to the end, so a signal during the interpreter's own exit quits cleanly too.
        on_stop_signals(stop.set, "stopping: finishing every stream")
        print(
            f"streamemo: serving on {server.url('/')} "
            f"(audio in: {server.url('/audio', True)}, events: {server.url('/events', True)})",
            file=sys.stderr,
            flush=True,
        )
        while not stop.wait(0.2):
            pass
        finishing = asyncio.run_coroutine_threadsafe(_finish(streams), server.loop)
        try:
            finishing.result(timeout=DRAIN_S)
        except TimeoutError:
            print(f"streamemo: streams still busy after {DRAIN_S} s; leaving", file=sys.stderr)
            server.close()
            quit_now(1)  # a stream's thread is still inside a model: no teardown
    finally:
        server.close()
    return 0


async def _finish(streams: AudioStreams) -> None:
    sessions = streams.finish_all()
    if sessions:
        await asyncio.wait([asyncio.ensure_future(s.done) for s in sessions])
