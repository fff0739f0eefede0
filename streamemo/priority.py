"""Work that may wait: the words of speech in progress give way to finished utterances.

A pipeline's "partials" thread marks itself as background. A shared stage that queues
the calls of many streams (``serve``'s, ``serving/coalesce.py``) runs every waiting
foreground call first, so live words never make another stream's final result late."""

from __future__ import annotations

from contextvars import ContextVar

_BACKGROUND: ContextVar[bool] = ContextVar("streamemo_background", default=False)


def mark_background() -> None:
    """This thread's calls from now on may wait for everyone else's."""
    _BACKGROUND.set(True)


def is_background() -> bool:
    return _BACKGROUND.get()
