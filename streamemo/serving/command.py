"""``streamemo serve``: audio in over websockets, events out, one port.

Each ``/audio`` connection is a stream with its own source (the ``[serve] source``
plugin), segmenter and pipeline thread; the heavy models are loaded once and shared by
every stream, and so are the sinks of ``[serve] sinks``. Every stream's events go back
on its own connection, out to every ``/events`` client and to those sinks.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import threading

import pluggy

from streamemo.config import load_config
from streamemo.errors import PreflightError, StreamemoError
from streamemo.loading import Analysers
from streamemo.pipeline_options import PipelineOptions
from streamemo.plugins import Registry
from streamemo.preflight import check_run
from streamemo.serving.event_server import EventServer
from streamemo.serving.options import ServeOptions
from streamemo.serving.shared import SharedSinks, batch_summary, shared_analysers
from streamemo.serving.streams import AudioStreams, stream_source
from streamemo.signals import on_stop_signals, quit_now, quit_on_signals

DRAIN_S = 120  # at Ctrl-C, how long the streams may take to finish what they were sent
EXIT_LOST = 1  # serve ended, but a shared sink did not get every event


def serve_command(args: argparse.Namespace, pm: pluggy.PluginManager) -> int:
    """``streamemo serve [--config FILE] [-o KEY=VALUE]... [--host H] [--port P]``."""
    config = load_config(args.config, args.overrides)
    options = ServeOptions.from_config(
        config, host=getattr(args, "host", None), port=getattr(args, "port", None)
    )
    registry = Registry.collect(pm)
    quit_on_signals()  # until the models are in there is nothing to finish: leave at once
    check_serve(config, registry, options)
    shared = SharedSinks(options.sinks, registry, config.get("sink") or {})
    streams = AudioStreams(config, pm, options=options, shared_sinks=shared)
    server = EventServer(options, audio=streams, port_hint="pick another with --port")
    stop = threading.Event()
    try:
        server.bind()  # before the models load: a busy port is reported at once
        streams.analysers = shared_analysers(
            Analysers.build(config, registry, checked=True),
            options.batch_window_ms / 1000,
            options.batch_max,
        )
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
            shared.close(1.0)  # what the finished streams gave them is kept
            quit_now(1)  # a stream's thread is still inside a model: no teardown
    finally:
        server.close()
        lost = shared.close(PipelineOptions.from_config(config).drain_s)
        if streams.analysers is not None and (ran := batch_summary(streams.analysers)):
            print(f"streamemo: shared models ran {ran}", file=sys.stderr, flush=True)
    return EXIT_LOST if lost else 0


def check_serve(config: dict, registry: Registry, options: ServeOptions) -> None:
    """Everything ``serve`` needs, before it binds or loads a model: one line names every
    problem (a bad segmenter, model, ``[pipeline]`` key, source or sink)."""
    problems = []
    try:
        stream_source(registry, options.source)
    except StreamemoError as exc:
        problems.append(str(exc))
    try:
        check_run(config, registry, sinks=options.sinks, source=False)
    except PreflightError as exc:
        problems += exc.problems
    if problems:
        raise PreflightError(problems)


async def _finish(streams: AudioStreams) -> None:
    sessions = streams.finish_all()
    if sessions:
        await asyncio.wait([asyncio.ensure_future(s.done) for s in sessions])
