"""The CPU cost of live words, and how soon a sentence's first words appear.

``streamemo run --input en_diary.wav --realtime`` with ``[pipeline] live_words`` on and
off, alternating, each run a child process under ``nice``; its CPU seconds (user + system,
from ``os.wait4``) and, from its events read as they come (``--sink jsonl:/dev/stdout``),
for each sentence of the truth json the wall time from its start in the played file to
the first event with any of its words (a partial with words, or its utterance event).
Second 0 of the file is the moment of the first event (``started``): the file source
starts pacing the audio then.

``--preload``: the same run in a child (``--child``) that loads the models first and
then plays the file, as a microphone is spoken to once the view says listening: the
first sentences then wait for no model (``streamemo run`` loads them while the file
already plays, and its first sentences queue behind the text model's load).

    python -m benchmarks.live_words [--runs 3] [--input WAV] [--preload] [-o KEY=VALUE ...]

``-o`` sets a config option for every run, as ``streamemo run -o`` does (with
``--preload`` too): ``-o segmenter.partial_first_s=1.0`` gives the first partial 1 s in.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

SHARED = Path(os.environ.get("STREAMEMO_SHARED", Path(__file__).parents[2] / "shared"))
DIARY = SHARED / "audio/en/en_diary.wav"


def child(wav: Path, live_words: bool, options: Sequence[str]) -> int:
    """One run with the models loaded first; events as JSON lines on stdout."""
    from streamemo.config import load_config
    from streamemo.events import event_to_json
    from streamemo.loading import Analysers
    from streamemo.pipeline import Pipeline
    from streamemo.plugins import Registry, get_plugin_manager
    from streamemo.stages import Sink

    class Lines(Sink):
        def write(self, event) -> None:
            print(event_to_json(event), flush=True)

    config = load_config(None, [*options, f"pipeline.live_words={str(live_words).lower()}"])
    config["source"] = {"name": "file"}
    pm = get_plugin_manager()
    analysers = Analysers.build(config, Registry.collect(pm))
    pipeline = Pipeline(
        config,
        pm,
        sinks=[],
        source_options={"input": str(wav), "realtime": True},
        extra_sinks=[Lines()],
        analysers=analysers,
    )
    pipeline.run()
    return 0


def one_run(
    wav: Path, live_words: bool, preload: bool = False, options: Sequence[str] = ()
) -> dict:
    on = "on" if live_words else "off"
    given = [arg for option in options for arg in ("-o", option)]
    if preload:
        command = ["nice", "-n", "10", sys.executable, "-m", "benchmarks.live_words"]
        command += ["--child", on, "--input", str(wav), *given]
    else:
        command = [
            "nice", "-n", "10", sys.executable, "-m", "streamemo", "run", "--input", str(wav),
            "--realtime", "--sink", "jsonl:/dev/stdout", "-o", "sink.jsonl.partials=true",
            "-o", f"pipeline.live_words={str(live_words).lower()}", *given,
        ]  # fmt: skip
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    events: list[tuple[float, dict]] = []
    assert proc.stdout is not None
    for line in proc.stdout:
        events.append((time.time(), json.loads(line)))
    _, status, usage = os.wait4(proc.pid, 0)
    assert status == 0, f"{command} failed ({status})"
    return {"cpu_s": usage.ru_utime + usage.ru_stime, "events": events}


def first_words(events: list[tuple[float, dict]], truth: list[dict]) -> list[float]:
    """Seconds from each sentence's start to the first event with its words."""
    t0 = events[0][0]
    first: dict[int, float] = {}
    for at, e in events:
        if e["type"] in ("partial", "utterance") and e.get("text"):
            first.setdefault(e["id"], at - t0)
    return [first[i + 1] - u["start"] for i, u in enumerate(truth) if i + 1 in first]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--input", type=Path, default=DIARY)
    parser.add_argument("--preload", action="store_true", help="models loaded before it plays")
    parser.add_argument("-o", dest="options", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--child", choices=("on", "off"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.input, args.child == "on", args.options)
    truth = json.loads(args.input.with_suffix(".json").read_text())["utterances"]
    cpu: dict[bool, list[float]] = {True: [], False: []}
    delays: dict[bool, list[float]] = {True: [], False: []}
    finals: dict[bool, list[float]] = {True: [], False: []}
    for n in range(args.runs):
        for live in (True, False):
            run = one_run(args.input, live, args.preload, args.options)
            cpu[live].append(run["cpu_s"])
            delays[live] += first_words(run["events"], truth)
            finals[live] += [e["latency_ms"] for _, e in run["events"] if e["type"] == "utterance"]
            with_words = sum(1 for _, e in run["events"] if e["type"] == "partial" and e["text"])
            print(
                f"run {n + 1} live_words={'on ' if live else 'off'}: {run['cpu_s']:.1f} CPU s, "
                f"{with_words} partials with words",
                flush=True,
            )

    def p95(values: list[float]) -> float:
        d = sorted(values)
        return d[min(len(d) - 1, round(0.95 * (len(d) - 1)))]

    for live in (True, False):
        d = sorted(delays[live])
        print(
            f"live_words {'on ' if live else 'off'}: CPU s median "
            f"{statistics.median(cpu[live]):.1f} ({', '.join(f'{c:.1f}' for c in cpu[live])}); "
            f"first words after sentence start p50 {statistics.median(d):.2f} s, "
            f"p95 {p95(d):.2f} s, max {d[-1]:.2f} s ({len(d)} sentences); "
            f"utterance event latency p50 {statistics.median(finals[live]):.0f} ms, "
            f"p95 {p95(finals[live]):.0f} ms"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
