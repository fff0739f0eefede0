"""The ``streamemo`` command line."""

from __future__ import annotations

import argparse
import gc
import logging
import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from streamemo import __version__
from streamemo.cli_options import add_config_options
from streamemo.errors import StreamemoError

if TYPE_CHECKING:
    from streamemo.pipeline import Pipeline

EXIT_USAGE = 2
EXIT_LOST = 1  # the run ended, but a sink or observer did not get every event


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="streamemo", description="Real-time emotion analysis of speech."
    )
    parser.add_argument("--version", action="version", version=f"streamemo {__version__}")
    parser.add_argument(
        "--plugins-dir", metavar="DIR", help="also load every .py file in DIR as a plugin"
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress messages on stderr")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser(
        "run",
        help="analyse an audio file (or the microphone) and emit events",
        description="Analyse audio from the configured source ([source]) and emit events.",
        epilog="--input FILE goes to the configured source when it reads files, else to the "
        "one source plugin that does (if several do, choose with -o source.name=NAME). "
        "Without --input the configured source is used (the built-in default: the "
        "microphone); a file-reading one with no input configured gives way to the built-in "
        "default. --device and --realtime go to the chosen source, when it takes them.",
    )
    add_config_options(run)
    run.add_argument(
        "--input",
        metavar="FILE",
        help="audio file: WAV, FLAC, OGG or MP3, any rate (default: the microphone)",
    )
    run.add_argument(
        "--device",
        metavar="NAME|INDEX",
        help="device to capture from (see `streamemo devices`; default: the system's)",
    )
    run.add_argument(
        "--realtime", action="store_true", help="pace a file at real speed, like a microphone"
    )
    run.add_argument(
        "--sink",
        action="append",
        metavar="SPEC",
        help="where events go: console, jsonl:PATH, ... (repeatable; default from config)",
    )

    sub.add_parser("plugins", help="list loaded plugins, their hooks and the stages they register")
    sub.add_parser(
        "devices",
        help="list the capture devices of every source that has them (* marks the default)",
    )

    serve = sub.add_parser(
        "serve",
        help="take audio over websockets (/audio), send events (/events), show a dashboard",
        description="Take audio over websockets (/audio), send events (/events) and serve the "
        "dashboard (/), all on one port.",
        epilog="A token: set STREAMEMO_TOKEN=... in the environment (or -o serve.token=..., or "
        "token in the config's [serve]); every client must then send ?token=... or an "
        "Authorization: Bearer ... header. Set one before --host makes the server reachable "
        "from other machines. The environment keeps it out of the process list. Each "
        "stream's source is the [serve] source plugin (it must take stream= and have "
        "offer()/end()); the sinks of [serve] sinks (e.g. -o 'serve.sinks=[\"jsonl:all.jsonl\"]') "
        "are built once and get every stream's events. Other [serve] options (max_streams, "
        "idle_timeout_s, ...) are in the README.",
    )
    add_config_options(serve)
    serve.add_argument("--host", help="address to listen on (default 127.0.0.1: this machine only)")
    serve.add_argument("--port", type=int, help="port to listen on (default 8765; 0: any free one)")
    from streamemo.calibration.command import add_parser as add_calibrate
    from streamemo.diary.commands import add_parser as add_diary

    add_calibrate(sub)
    add_diary(sub)
    from streamemo.batch.command import add_parser as add_batch

    add_batch(sub)
    return parser


class _StderrNow(logging.StreamHandler):
    """Log lines to whatever ``sys.stderr`` is when they are written: the live view swaps in
    its own, which prints them above the view (models finish loading while it is up)."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING if args.quiet else logging.INFO,
        format="streamemo: %(message)s",
        handlers=[_StderrNow()],
    )
    for noisy in ("httpx", "huggingface_hub", "faster_whisper", "transformers"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")  # no tqdm bars between events
    try:
        from streamemo.plugins import get_plugin_manager

        if args.command == "diary":
            from streamemo.diary.commands import diary_command

            # only record and reanalyse run pipelines: the others skip loading every plugin
            args.plugin_manager = lambda: get_plugin_manager(args.plugins_dir)
            return diary_command(args)
        pm = get_plugin_manager(args.plugins_dir)
        if args.command == "plugins":
            return _list_plugins(pm)
        if args.command == "devices":
            return _list_devices(pm)
        if args.command == "calibrate":
            from streamemo.calibration.command import calibrate_command

            return calibrate_command(args, pm)
        if args.command == "batch":
            from streamemo.batch.command import batch_command

            return batch_command(args, pm)
        if args.command == "serve":
            from streamemo.serving.command import serve_command

            return serve_command(args, pm)
        return _run(args, pm)
    except StreamemoError as exc:
        print(f"streamemo: error: {exc}", file=sys.stderr)
        return EXIT_USAGE


def entry() -> None:
    """The ``streamemo`` command: ``main()``, then a quick exit."""
    code = main()
    # spare the interpreter's final collections a walk over the million objects of torch
    # and transformers: exit takes 0.1 s instead of 0.65 s (every sink is closed by now)
    gc.freeze()
    sys.exit(code)


def _run(args: argparse.Namespace, pm) -> int:
    from streamemo.cli_sources import choose_source
    from streamemo.config import load_config
    from streamemo.pipeline import Pipeline
    from streamemo.plugins import Registry

    config = load_config(args.config, args.overrides)
    source_options = choose_source(
        config, Registry.collect(pm), input=args.input, device=args.device, realtime=args.realtime
    )
    return drive(lambda: Pipeline(config, pm, sinks=args.sink, source_options=source_options))


def drive(build: Callable[[], Pipeline], *, drain: bool = True) -> int:
    """Build a pipeline and run it to its end, as ``run`` does; the exit status.

    Ctrl-C, SIGTERM or SIGHUP while the models load (nothing captured yet): leave at once.
    Once audio flows, the first one finishes what was heard and flushes every sink (exit
    0); a second one leaves at once (128 + its number), without the interpreter's
    teardown, which segfaults while a thread is inside CTranslate2. ``drain=False``: any
    of them leaves at once throughout (for work that keeps nothing until it is whole).
    """
    from streamemo.signals import on_stop_signals, quit_on_signals

    restore_quit = quit_on_signals()
    try:
        pipeline = build()
        restore_drain = on_stop_signals(pipeline.stop) if drain else (lambda: None)
    except BaseException:
        restore_quit()
        raise
    try:
        pipeline.run()
    except StreamemoError:
        raise
    except Exception as exc:
        print(f"streamemo: error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    finally:
        restore_drain()
        restore_quit()
    return EXIT_LOST if pipeline.events_lost else 0


def _list_devices(pm) -> int:
    from streamemo.cli_sources import device_table
    from streamemo.plugins import Registry

    lines = device_table(Registry.collect(pm))
    print("\n".join(lines) if lines else "no source plugin lists devices")
    return 0 if lines else 1


def _list_plugins(pm) -> int:
    from streamemo.plugins import Registry

    registry = Registry.collect(pm)
    provided: dict[str, list[str]] = {}
    for kind, entries in registry.entries.items():
        for name, entry in entries.items():
            provided.setdefault(entry.plugin, []).append(f"{kind}:{name}")
    for name, plugin in pm.list_name_plugin():
        hooks = sorted(caller.name for caller in pm.get_hookcallers(plugin) or [])
        print(name)
        print(f"    hooks:  {', '.join(hooks) or '-'}")
        if provided.get(name):
            print(f"    stages: {', '.join(provided[name])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
