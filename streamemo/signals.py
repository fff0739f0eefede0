"""Ending a run by signal: the first SIGINT, SIGTERM or SIGHUP drains, a second
SIGINT or SIGTERM quits.

Draining means what was captured is still analysed and every sink flushed, exactly
as for Ctrl-C. Quitting at once skips the interpreter's teardown with ``os._exit``:
tearing down CTranslate2 while a thread is inside it segfaults (exit 139). A closing
terminal sends SIGHUP twice (the kernel's hangup, then the shell's), so a repeated
SIGHUP never cuts the drain short; the drain is bounded by ``pipeline.drain_s``.
A signal that was ignored when we started (``nohup``) stays ignored.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable

STOP_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)


def quit_now(code: int) -> None:
    """Leave at once with ``code``: flush what was printed, run no teardown."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)


def on_stop_signals(stop: Callable[[], None], what: str = "stopping") -> Callable[[], None]:
    """Call ``stop`` on the first stop signal; quit on a second SIGINT or SIGTERM
    (128 + its number).

    Returns a function that puts the previous handlers back. Call it from the main
    thread only, as Python requires of ``signal.signal``.
    """
    stopping = threading.Event()

    def handle(signum: int, _frame) -> None:
        if stopping.is_set():
            if signum != getattr(signal, "SIGHUP", None):
                quit_now(128 + signum)
            return
        stopping.set()
        how = {signal.SIGINT: "Ctrl-C again", signal.SIGTERM: "SIGTERM again"}.get(
            signum, "Ctrl-C or SIGTERM"
        )
        try:  # after SIGHUP the terminal may be gone: the drain matters, the message less
            print(f"\nstreamemo: {what} ({how} to quit at once)", file=sys.stderr)
            sys.stderr.flush()
        except (OSError, ValueError):
            pass
        stop()

    return _install(handle)


def quit_on_signals() -> Callable[[], None]:
    """Any stop signal quits at once (128 + its number): for the start-up, while models
    load and nothing was captured yet. Returns a function that puts the handlers back."""
    return _install(lambda signum, _frame: quit_now(128 + signum))


def _install(handler) -> Callable[[], None]:
    previous = {
        signum: signal.signal(signum, handler)
        for signum in STOP_SIGNALS
        if signal.getsignal(signum) is not signal.SIG_IGN
    }

    def restore() -> None:
        for signum, old in previous.items():
            signal.signal(signum, old)

    return restore
