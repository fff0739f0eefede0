"""``streamemo calibrate``: record (or read) neutral speech, check it, store the baseline.

Every check that can fail before the recording is made first (where to write, the
source); after it, each problem of the speech is one line, exit 2, and nothing is
written. Nothing here loads the voice model: a baseline is MFCC statistics only.
"""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path

import pluggy

from streamemo.calibration.capture import MIC_SECONDS, open_source, read, stderr
from streamemo.calibration.speech import MIN_SPEECH_S, check, find_speech
from streamemo.calibration.store import check_writable, target, write
from streamemo.cli_options import add_config_options
from streamemo.default_plugins.voice_emotion.baselines import personal_path
from streamemo.errors import ConfigError, InputError

CANCELLED = 130


def add_parser(sub: argparse._SubParsersAction) -> None:
    calibrate = sub.add_parser(
        "calibrate",
        help="record your neutral speech as your own voice baseline (audio.baseline=personal)",
        description="Record (or read) your calm, neutral speech, check that it is usable "
        "(enough speech, not clipped, not too quiet) and store your voice baseline: the "
        "mean and spread of your MFCCs, which the seed's voice model measures every "
        "utterance against. Use it with -o audio.baseline=personal.",
    )
    calibrate.add_argument(
        "--input", metavar="FILE", help="a recording of your neutral speech instead of the mic"
    )
    calibrate.add_argument(
        "--seconds", type=float, metavar="S",
        help=f"how long to record (default {MIC_SECONDS:g}); with --input: the file's first "
        "S seconds (default: all of it)",
    )  # fmt: skip
    calibrate.add_argument(
        "--device", metavar="NAME|INDEX", help="the microphone (see `streamemo devices`)"
    )
    calibrate.add_argument(
        "--out", metavar="PATH", help=f"where to write it (default: {personal_path()})"
    )
    calibrate.add_argument(
        "--name", metavar="NAME",
        help="store it by name (baselines/NAME.json in the data folder), for several people: "
        "-o audio.baseline=NAME, or \"baseline\": NAME in a serve client's hello",
    )  # fmt: skip
    add_config_options(
        calibrate,
        "a TOML config: its [source] (and [segmenter]) are used",
        "source.samplerate=48000",
    )
    calibrate.add_argument(
        "--min-speech", type=float, default=MIN_SPEECH_S, metavar="S",
        help=f"the least speech (seconds, as the VAD times it) to take (default {MIN_SPEECH_S:g})",
    )  # fmt: skip


def calibrate_command(args: argparse.Namespace, pm: pluggy.PluginManager) -> int:
    from streamemo.calibration.stats import measure
    from streamemo.config import load_config
    from streamemo.loading import build_stage
    from streamemo.plugins import Registry

    for flag, value in (("--seconds", args.seconds), ("--min-speech", args.min_speech)):
        if value is not None and not 0 < value < 24 * 3600:
            raise ConfigError(f"{flag} must be a number of seconds above 0, not {value:g}")
    path = target(args.out, args.name)
    check_writable(path)
    config = load_config(args.config, args.overrides)  # the microphone's setup, if any
    registry = Registry.collect(pm)
    source = open_source(config, registry, args.input, args.device)
    what = args.input if args.input else source.name
    seconds = args.seconds if args.input or args.seconds else MIC_SECONDS
    try:
        samples = read(source, seconds, stderr)
    except KeyboardInterrupt:
        stderr("calibration cancelled: nothing written")
        return CANCELLED
    segmenter = build_stage(config, registry, "segmenter", {"partial_hop_s": 0})
    speech = find_speech(samples, segmenter)
    check(speech, what, args.min_speech, live=args.input is None)
    try:
        baseline = measure(speech.utterances)
    except ValueError as exc:
        more = "speak for longer" if args.input is None else "give a longer recording"
        raise InputError(f"too little speech in {what} ({exc}): {more}") from None
    about = {
        "source": Path(what).name if args.input else what,
        "speech_s": round(speech.speech_s, 2),
        "recorded_s": round(speech.recorded_s, 2),
        "level_dbfs": round(speech.level_db, 1),
        "clipped": round(speech.clipped, 6),
        "utterances": len(speech.utterances),
    }
    write(path, baseline, about)
    print(speech.summary())
    print(f"baseline over {baseline.windows} windows written to {path}")
    print(f"use it: {usage(args)}")
    return 0


def usage(args: argparse.Namespace) -> str:
    if args.name:
        return (
            f"streamemo run -o audio.baseline={args.name} (a serve client: "
            f'"baseline": "{args.name}" in its hello)'
        )
    if args.out:
        return f"streamemo run -o audio.baseline={shlex.quote(str(Path(args.out).expanduser()))}"
    return 'streamemo run -o audio.baseline=personal (a serve client: "baseline": "personal")'
