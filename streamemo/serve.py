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
import os
import signal
import sys
import threading
from dataclasses import dataclass
from typing import Any

import pluggy
from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from streamemo.broadcast import Subscriber, close_or_abort
from streamemo.config import call_factory, load_config
from streamemo.errors import ConfigError
from streamemo.events import Event, StatusEvent, event_to_json
from streamemo.net_source import NetworkSource, PcmDecoder, WireError
from streamemo.pipeline import Analysers, Pipeline, build_stage
from streamemo.plugins import Registry
from streamemo.server import EventServer, ServerOptions, close_reason

log = logging.getLogger("streamemo")

BUSY = 1013  # try again later


@dataclass
class ServeOptions(ServerOptions):
    """The ``[serve]`` table: the server's options plus a limit on streams."""

    max_streams: int = 8

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.max_streams, int) or self.max_streams < 1:
            raise ConfigError(f"serve.max_streams must be at least 1, not {self.max_streams!r}")


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

        self.loop.create_task(flushed())


class AudioStreams:
    """The ``/audio`` endpoint."""

    def __init__(
        self,
        config: dict[str, Any],
        pm: pluggy.PluginManager,
        analysers: Analysers | None = None,
        max_streams: int = 8,
    ):
        self.config = config
        self.pm = pm
        self.analysers = analysers
        self.max_streams = max_streams
        self.sessions: dict[str, StreamSession] = {}  # loop thread only
        self.accepting = True
        self.connections = 0  # open /audio connections, counted against max_streams
        self._numbers = itertools.count(1)

    async def handle(self, connection: ServerConnection, server: EventServer) -> None:
        if not self.accepting or self.connections >= self.max_streams:
            why = (
                "server shutting down"
                if not self.accepting
                else f"server busy: {self.connections} streams already (serve.max_streams)"
            )
            await connection.close(BUSY, why)
            return
        self.connections += 1
        try:
            await self._stream(connection, server, next(self._numbers))
        finally:
            self.connections -= 1

    async def _stream(self, connection: ServerConnection, server: EventServer, number: int) -> None:
        decoder = PcmDecoder()
        session: StreamSession | None = None
        try:
            async for message in connection:
                samples = decoder.feed(message)
                if session is None and (decoder.started or decoder.ended):
                    session = self._open(connection, server, decoder, number)
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

    def _open(
        self,
        connection: ServerConnection,
        server: EventServer,
        decoder: PcmDecoder,
        number: int,
    ) -> StreamSession:
        name = decoder.name or f"ws-{number}"
        if name in self.sessions:  # names identify streams: keep them unique
            name = f"{name}-{number}"
        session = StreamSession(name, connection, server, self, decoder.types)
        self.sessions[name] = session
        peer = connection.remote_address
        log.info(
            "stream %s connected from %s (%d Hz)",
            name,
            f"{peer[0]}:{peer[1]}" if peer else "?",
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
    build_stage(config, registry, "segmenter")  # a bad [segmenter] fails now, not per client

    streams = AudioStreams(config, pm, max_streams=options.max_streams)
    server = EventServer(options, audio=streams, port_hint="pick another with --port")
    server.bind()  # before the models load: a busy port is reported at once
    stop = threading.Event()

    def interrupt(signum, frame):  # first Ctrl-C: finish the streams; second: leave now
        signal.signal(signal.SIGINT, signal.default_int_handler)
        stop.set()

    try:  # Ctrl-C while the models load leaves at once
        streams.analysers = shared_analysers(Analysers.build(config, registry))
        server.start()
        signal.signal(signal.SIGINT, interrupt)
        signal.signal(signal.SIGTERM, interrupt)
        print(
            f"streamemo: serving on {server.url('/')} "
            f"(audio in: {server.url('/audio', True)}, events: {server.url('/events', True)})",
            file=sys.stderr,
            flush=True,
        )
        while not stop.wait(0.2):
            pass
        print("streamemo: stopping (Ctrl-C again to quit at once)", file=sys.stderr)
        finishing = asyncio.run_coroutine_threadsafe(_finish(streams), server.loop)
        try:
            finishing.result(timeout=120)
        except TimeoutError:
            print("streamemo: streams still busy after 120 s; leaving", file=sys.stderr)
    except KeyboardInterrupt:
        return 130
    finally:
        server.close()
    return 0


async def _finish(streams: AudioStreams) -> None:
    sessions = streams.finish_all()
    if sessions:
        await asyncio.wait([asyncio.ensure_future(s.done) for s in sessions])
