"""``streamemo diary reanalyse ID``: an entry whose audio was kept, analysed again with
another config or other models, its utterances replaced in one transaction.

The whole pipeline runs again from the FLAC (segmenter, transcriber, text, voice,
fuser); the entry keeps its id and start time. Nothing is replaced until the new
analysis is whole: Ctrl-C, a failure or a lost event leaves the entry as it was.
"""

from __future__ import annotations

import argparse
import sys

from streamemo.cli_options import add_config_options
from streamemo.diary.commands.listing import entry_line, open_diary
from streamemo.diary.store import Diary, DiaryError


def add(actions: argparse._SubParsersAction) -> list[argparse.ArgumentParser]:
    again = actions.add_parser(
        "reanalyse",
        help="analyse an entry's kept audio again (other models or config)",
        description="Analyse an entry recorded with --keep-audio again, with the config "
        "and -o options given (e.g. a better voice model), and replace its utterances.",
    )
    again.add_argument("id", type=int, metavar="ID", help="the entry's number (see diary list)")
    add_config_options(again, "a TOML config, as for streamemo run", "audio.baseline=female")
    again.set_defaults(diary_run=reanalyse)
    return [again]


def reanalyse(args: argparse.Namespace) -> int:
    from streamemo import preflight
    from streamemo.cli import drive
    from streamemo.cli_sources import choose_source
    from streamemo.config import load_config
    from streamemo.diary.kept_audio import finish, in_use, unfinished
    from streamemo.diary.recording import Collect
    from streamemo.pipeline import Pipeline
    from streamemo.plugins import Registry

    with open_diary(args) as diary:
        before, _ = diary.entry(args.id)
        audio, path = diary.audio_path(args.id), diary.path
    if not audio.is_file():
        raise DiaryError(f"entry {args.id} has no kept audio: record with --keep-audio")
    if in_use(audio):
        raise DiaryError(f"entry {args.id} is being recorded now: reanalyse it once it ends")
    config = load_config(args.config, args.overrides)
    registry = Registry.collect(pm := args.plugin_manager())
    options = choose_source(config, registry, input=str(audio))
    preflight.check_run(config, registry, source_options=options)
    if unfinished(audio):  # its recording was killed: libsndfile reads it once rewritten
        finish(audio)
    heard = Collect()
    # any signal leaves at once: nothing is written until the analysis is whole
    code = drive(
        lambda: Pipeline(config, pm, sinks=[], source_options=options, extra_sinks=[heard]),
        drain=False,
    )
    if code != 0:
        print(f"streamemo: entry {args.id} left as it was", file=sys.stderr)
        return code
    events = [{**event, "stream": before.stream} for event in heard.events]
    with Diary(path, create=False) as diary:
        diary.replace_utterances(args.id, events)
        after, _ = diary.entry(args.id)
    print(f"before  {entry_line(before)}")
    print(f"after   {entry_line(after)}")
    return 0
