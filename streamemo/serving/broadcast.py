"""Fan-out of events to websocket clients: one bounded queue per client.

Everything here runs on the server's asyncio loop (it is not thread-safe); other
threads hand messages over with ``loop.call_soon_threadsafe``. A client that
cannot keep up is disconnected with a close reason, so it never slows the
pipeline or the other clients.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import deque
from typing import get_args

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from streamemo.events import Event

log = logging.getLogger("streamemo")

# "utterance", "partial", "status", ...: every event class's ``type``
EVENT_TYPES = tuple(cls.__dataclass_fields__["type"].default for cls in get_args(Event))
REPLAYED = frozenset({"utterance", "status"})  # what a new client is sent from the history
TOO_SLOW = 1008  # policy violation: the client did not read its events
INVALID = 1007  # a message the server cannot use (bad JSON, unknown event type)
BUSY = 1013  # try again later

# Tasks nobody awaits: the loop holds only weak references to them, and one collected
# while pending prints "Task was destroyed but it is pending!".
_BACKGROUND: set[asyncio.Task] = set()


def background(coroutine) -> asyncio.Task:
    """Run ``coroutine`` on the running loop, held until it is done."""
    task = asyncio.get_running_loop().create_task(coroutine)
    _BACKGROUND.add(task)
    task.add_done_callback(_BACKGROUND.discard)
    return task


class SubscriptionError(ValueError):
    """A subscription message or query that names no valid event types."""


def parse_types(value: object) -> frozenset[str]:
    """``"utterance,status"`` or ``["utterance", "status"]`` -> the set, checked."""
    names = value.split(",") if isinstance(value, str) else value
    if not isinstance(names, list | tuple) or not all(isinstance(n, str) for n in names):
        raise SubscriptionError("event types must be a list of strings")
    chosen = {n.strip() for n in names if n.strip()}
    unknown = sorted(chosen - set(EVENT_TYPES))
    if unknown or not chosen:
        raise SubscriptionError(
            f"unknown event type(s) {', '.join(unknown) or '(none given)'}; "
            f"valid: {', '.join(EVENT_TYPES)}"
        )
    return frozenset(chosen)


def parse_subscription(message: str | bytes) -> frozenset[str]:
    """``{"type": "subscribe", "events": ["utterance", "status"]}`` -> the event types."""
    if isinstance(message, bytes):
        raise SubscriptionError("binary message on /events: send a JSON subscription")
    try:
        data = json.loads(message)
    except (ValueError, RecursionError):  # RecursionError: nested too deeply
        raise SubscriptionError(
            'not JSON: send {"type": "subscribe", "events": ["utterance", ...]}'
        ) from None
    if not isinstance(data, dict) or data.get("type") != "subscribe":
        raise SubscriptionError('expected {"type": "subscribe", "events": [...]}')
    events = data.get("events")
    if not isinstance(events, list):
        raise SubscriptionError('"events" must be a list of event types')
    return parse_types(events)


class Subscriber:
    """One client: its queue, the types it wants, and the task that sends to it."""

    def __init__(
        self,
        connection: ServerConnection,
        max_queue: int,
        types: frozenset[str] | None = None,
        name: str = "",
        close_timeout: float = 5.0,
    ):
        self.connection = connection
        self.max_queue = max_queue
        self.close_timeout = close_timeout
        self.types = types
        self.name = name or _peer(connection)
        self.dropped: str | None = None  # the close reason, once disconnected for being slow
        self.gone = False  # the connection closed (either side)
        self._queue: deque[str] = deque()
        self._wake = asyncio.Event()
        self._ending: tuple[int, str] | None = None
        self._task = asyncio.get_running_loop().create_task(self._pump())

    def offer(self, message: str, kind: str) -> bool:
        """Queue one event; False once this subscriber is done for."""
        if self.gone or self.dropped or self._ending:
            return False
        if self.types is not None and kind not in self.types:
            return True
        if len(self._queue) >= self.max_queue:
            self._drop(f"too slow: fell {self.max_queue} events behind")
            return False
        self._queue.append(message)
        self._wake.set()
        return True

    def finish(self, code: int = 1000, reason: str = "end of stream") -> None:
        """Send what is queued, then close the connection."""
        if self._ending is None:
            self._ending = (code, reason)
            self._wake.set()

    def close(self) -> None:
        """The connection is gone: stop the task that sends to it, else it waits forever for
        events (after ``finish`` it ends by itself, once the close is done)."""
        self.gone = True
        if self._ending is None:
            self._task.cancel()

    async def wait(self, timeout: float | None = None) -> None:
        """Until everything queued is sent and, after ``finish``, the close is sent."""
        try:
            await asyncio.wait_for(asyncio.shield(self._task), timeout)
        except (TimeoutError, asyncio.CancelledError):
            pass

    async def _pump(self) -> None:
        try:
            while True:
                while self._queue:
                    await self.connection.send(self._queue.popleft())
                if self._ending is not None:
                    await close_or_abort(self.connection, *self._ending, self.close_timeout)
                    return
                self._wake.clear()
                await self._wake.wait()
        except ConnectionClosed:
            pass
        finally:
            self.gone = True

    def _drop(self, reason: str) -> None:
        self.dropped = reason
        self._queue.clear()
        self._task.cancel()  # a send stuck on a full socket buffer must not hold the close
        log.warning("events client %s disconnected: %s", self.name, reason)
        # the close frame goes out after what is already in the socket buffer
        background(close_or_abort(self.connection, TOO_SLOW, reason, self.close_timeout))


class Hub:
    """Every ``/events`` subscriber, and the recent events a new client is sent first."""

    def __init__(self, history: int = 100):
        self.subscribers: set[Subscriber] = set()
        # utterances and status only: a replayed partial is stale the moment it arrives
        self.history: deque[tuple[str, str]] = deque(maxlen=max(0, history))
        self.slow_disconnects = 0

    def add(self, subscriber: Subscriber) -> None:
        for message, kind in list(self.history)[-max(1, subscriber.max_queue // 2) :]:
            subscriber.offer(message, kind)
        self.subscribers.add(subscriber)

    def remove(self, subscriber: Subscriber) -> None:
        """The subscriber's connection is gone."""
        self.subscribers.discard(subscriber)
        subscriber.close()

    def publish(self, message: str, kind: str) -> None:
        if kind in REPLAYED and self.history.maxlen:
            self.history.append((message, kind))
        for subscriber in list(self.subscribers):
            if not subscriber.offer(message, kind):
                self.subscribers.discard(subscriber)
                if subscriber.dropped:
                    self.slow_disconnects += 1

    async def finish_all(self, code: int, reason: str, timeout: float) -> None:
        """Flush every client's queue (bounded by ``timeout``), then close them."""
        subscribers = list(self.subscribers)
        for subscriber in subscribers:
            subscriber.finish(code, reason)
        if subscribers:
            waits = [asyncio.ensure_future(s.wait()) for s in subscribers]
            await asyncio.wait(waits, timeout=timeout)


async def close_or_abort(
    connection: ServerConnection, code: int, reason: str, timeout: float
) -> None:
    """Close with a reason; a client that reads nothing never takes the close frame (the
    send waits on a full socket buffer forever), so after ``timeout`` drop the TCP link."""
    try:
        await asyncio.wait_for(connection.close(code, reason), timeout)
    except TimeoutError:
        connection.transport.abort()


def _peer(connection: ServerConnection) -> str:
    address = getattr(connection, "remote_address", None)
    return f"{address[0]}:{address[1]}" if address else "?"
