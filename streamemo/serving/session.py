"""One ``/audio`` connection's stream: its source and pipeline thread, and where its
events go (back on its connection, out to every ``/events`` client, the shared sinks)."""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import TYPE_CHECKING, Any

from websockets.asyncio.server import ServerConnection

from streamemo.events import Event, StatusEvent, event_to_json
from streamemo.loading import Analysers
from streamemo.pipeline import Pipeline
from streamemo.serving.broadcast import Subscriber, background
from streamemo.serving.event_server import EventServer, close_reason
from streamemo.stages import Sink

if TYPE_CHECKING:
    from streamemo.serving.streams import AudioStreams

log = logging.getLogger("streamemo")


class ConnectionSink(Sink):
    """A stream's events, back to the connection that sends its audio."""

    def __init__(self, server: EventServer, subscriber: Subscriber):
        self.server = server
        self.subscriber = subscriber

    def write(self, event: Event) -> None:
        self.server.call(self.subscriber.offer, event_to_json(event), event.type)


class BroadcastSink(Sink):
    """A stream's events, out to every ``/events`` client."""

    def __init__(self, server: EventServer):
        self.server = server

    def write(self, event: Event) -> None:
        self.server.publish(event)


class StreamSession:
    """One connection's stream: its source, its pipeline thread, its reply channel."""

    def __init__(
        self,
        name: str,
        connection: ServerConnection,
        server: EventServer,
        streams: AudioStreams,
        types: frozenset[str] | None,
        analysers: Analysers | None = None,
        live_words: bool | None = None,
    ):
        self.name = name
        self.live_words = live_words  # the hello's; None or True: the server's [pipeline] one
        self.analysers = analysers or streams.analysers  # its own baseline: its own voice
        self.streams = streams
        self.server = server
        self.source = streams.new_source(name)  # offer() and end() are called from the loop
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
        sinks = [ConnectionSink(server, self.reply), BroadcastSink(server), *streams.sinks()]
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
            config = self.streams.config
            # the hello's "live_words": false turns them off for this stream; true never
            # turns them on where the server turned them off (its CPU is the server's)
            if self.live_words is False:
                pipeline_table = {**(config.get("pipeline") or {}), "live_words": False}
                config = {**config, "pipeline": pipeline_table}
            pipeline = Pipeline(
                config,
                self.streams.pm,
                source=self.source,
                analysers=self.analysers,
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
