"""``streamemo diary record``: dictate one entry, from the microphone until Ctrl-C or
from a file to its end, with the live view while speaking; its summary at the end.

The run is ``streamemo run``'s (config, start-up checks, source choice, signals): the
first Ctrl-C or SIGTERM finishes the utterance in progress and writes it, a second one
leaves at once. Each utterance is committed as it arrives (the diary sink), so even a
kill -9 keeps the entry, unfinished, with everything said so far.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time

from streamemo.cli_options import add_config_options

SINKS = ["console"]  # the live view on a terminal, plain lines otherwise


def add(actions: argparse._SubParsersAction) -> list[argparse.ArgumentParser]:
    record = actions.add_parser(
        "record",
        help="dictate an entry (the microphone until Ctrl-C, or --input FILE)",
        description="Dictate one diary entry: from the microphone until Ctrl-C (or "
        "SIGTERM), or from --input FILE to its end, shown live as you speak; the entry's "
        "summary at the end. The run is streamemo run's, with the console as its only sink.",
    )
    record.add_argument("--input", metavar="FILE", help="an audio file instead of the microphone")
    record.add_argument(
        "--device", metavar="NAME|INDEX", help="the microphone (see `streamemo devices`)"
    )
    record.add_argument("--realtime", action="store_true", help="pace --input at real speed")
    add_config_options(record, "a TOML config, as for streamemo run", "audio.baseline=female")
    record.add_argument(
        "--keep-audio",
        action="store_true",
        help="keep the audio too (FLAC beside the diary), for diary reanalyse later",
    )
    record.set_defaults(diary_run=record_entry)
    return [record]


def record_entry(args: argparse.Namespace) -> int:
    from streamemo import preflight
    from streamemo.cli import drive
    from streamemo.cli_sources import choose_source
    from streamemo.config import load_config
    from streamemo.default_plugins.diary_sink import DiarySink
    from streamemo.diary.entry_summary import summary_lines
    from streamemo.diary.recording import KeepingSource, check_db, db_path
    from streamemo.diary.store import Diary
    from streamemo.loading import build_stage
    from streamemo.pipeline import Pipeline
    from streamemo.plugins import Registry

    path = db_path(args.db)
    check_db(path)
    config = load_config(args.config, args.overrides)
    registry = Registry.collect(pm := args.plugin_manager())
    options = choose_source(
        config, registry, input=args.input, device=args.device, realtime=args.realtime
    )
    preflight.check_run(config, registry, sinks=SINKS, source_options=options)
    sink = DiarySink(str(path))  # everything checked: only now may the diary be created
    entry: list[int] = []

    def build() -> Pipeline:
        keeping = None
        if args.keep_audio:
            keeping = KeepingSource(build_stage(config, registry, "source", options))
        pipeline = Pipeline(
            config, pm, sinks=SINKS, source_options=options, source=keeping,
            extra_sinks=[sink],
        )  # fmt: skip
        entry.append(sink.begin(pipeline.stream, time.time()))
        if keeping is not None:
            keeping.path = sink.diary.new_audio_path(entry[0])
        return pipeline

    try:
        code = drive(build)
    finally:
        if not entry:  # it never ran: the sink was never closed
            sink.close()
    with Diary(path, create=False) as diary:
        found, events = diary.entry(entry[0])
        if not events:  # an entry of nothing would only clutter the list
            diary.delete(found.id)
            print("streamemo: nothing was said: no entry kept", file=sys.stderr)
            return code
    show = f"streamemo diary show {found.id}"
    if args.db:
        show += f" --db {shlex.quote(args.db)}"
    print("\n".join(summary_lines(found, events, show)), flush=True)
    return code
