"""Work that may wait: the words of speech in progress and speculations give way to
finished utterances.

A pipeline's "partials" thread marks itself as background for good. A speculation (the
thread "speculating") works under an ``Urgency`` of its own: background while the
utterance may still go on, promoted to foreground when its utterance ends (its result is
wanted now), withdrawn when speech resumes (nobody wants it). A shared stage that queues
the calls of many streams (``serve``'s, ``serving/coalesce.py``) runs every waiting
foreground call first, so live words and guesses never make another stream's final
result late, and a withdrawn call that is still queued is never run."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar


class Withdrawn(Exception):
    """The work a queued call was for is no longer wanted: it was not run."""


class Urgency:
    """How urgent one piece of work's calls are, read whenever a queue picks its next call."""

    def __init__(self, background: bool = True):
        self.background = background
        self.withdrawn = False

    def promote(self) -> None:
        self.background = False

    def withdraw(self) -> None:
        self.withdrawn = True


_URGENCY: ContextVar[Urgency | None] = ContextVar("streamemo_urgency", default=None)


def mark_background() -> None:
    """This thread's calls from now on may wait for everyone else's."""
    _URGENCY.set(Urgency())


def current() -> Urgency | None:
    """The urgency of this thread's work (None: foreground)."""
    return _URGENCY.get()


@contextmanager
def working_as(urgency: Urgency) -> Iterator[Urgency]:
    """Calls made inside the block (on this thread) carry ``urgency``."""
    token = _URGENCY.set(urgency)
    try:
        yield urgency
    finally:
        _URGENCY.reset(token)
