"""Run every benchmark, print the table, write the JSON (and the README table).

    python -m benchmarks                     # the whole table, about 25 min on 2 cores
    python -m benchmarks --update-readme     # ... and write it into benchmarks/README.md
    python -m benchmarks --quick --out DIR   # tiny inputs, one repetition (the smoke test)
    python -m benchmarks --only voice overhead
    python -m benchmarks soak --minutes 60   # the hour through the virtual mic (soak.py)
    python -m benchmarks diary               # the voice diary after 3 years (diary.py)
    python -m benchmarks ser                 # speech-emotion throughput (ser_throughput.py)
    python -m benchmarks ser-eval DIR        # a voice analyser on labelled clips (ser_eval.py)
    python -m benchmarks calibration         # personal voice baselines (calibration_report.py)
    python -m benchmarks batch               # batch: 1 vs 2 workers, Ray (batch_throughput.py)
    python -m benchmarks realtimestt         # beside RealtimeSTT (realtimestt_compare.py)
    python -m benchmarks vad                 # webrtcvad vs silero, clean and noisy (vad_compare.py)

Run it from the repository root with ../shared beside it (or $STREAMEMO_SHARED).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from benchmarks import file_overhead, latency, memory, report, scaling, voice_throughput
from benchmarks.common import (
    BENCH,
    RESULTS,
    MissingData,
    Settings,
    add_wait_quiet_option,
    loadavg,
    log,
    machine,
    machine_slug,
    python,
    run_child,
    shown_path,
    wait_quiet,
)

NAMES = ("voice", "overhead", "scaling", "memory", "latency", "text")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="tiny inputs, one repetition")
    p.add_argument("--only", nargs="+", choices=NAMES, help="run only these benchmarks")
    p.add_argument("--reps", type=int, help="repetitions of voice and file-overhead runs (3)")
    p.add_argument("--utterances", type=int, help="how many single utterances (all 49)")
    p.add_argument("--threads", type=int, help="Whisper cpu_threads for both sides (all cores)")
    p.add_argument("--scaling-minutes", type=float, nargs="+", help="sizes (1 2 4 8)")
    p.add_argument("--scaling-reps", type=int, help="repetitions per size (2)")
    p.add_argument("--memory-minutes", type=float, help="length of the real-time run (10)")
    p.add_argument("--memory-warmup", type=float, help="stream seconds before growth counts")
    p.add_argument("--out", type=Path, help=f"folder for the JSON (default {RESULTS})")
    p.add_argument("--update-readme", action="store_true", help="write the table into the README")
    add_wait_quiet_option(p)
    p.add_argument("--load-note", help="a note on the machine's load for the README")
    p.add_argument(
        "-o",
        dest="option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a config override for every streamemo run (repeatable), e.g. "
        "-o pipeline.speculate=false -o segmenter.adaptive_hangover=false "
        "-o segmenter.name=silero",
    )
    p.add_argument(
        "--render",
        type=Path,
        metavar="JSON",
        help="run nothing: print the table of an earlier results file (with --update-readme: "
        "write it into the README)",
    )
    return p


def _settings(args: argparse.Namespace, work: Path) -> Settings:
    s = Settings.quick_settings(work) if args.quick else Settings(work=work)
    for field, value in (
        ("reps", args.reps),
        ("utterances", args.utterances),
        ("threads", args.threads),
        ("scaling_minutes", args.scaling_minutes),
        ("scaling_reps", args.scaling_reps),
        ("memory_minutes", args.memory_minutes),
        ("memory_warmup_s", args.memory_warmup),
    ):
        if value is not None:
            setattr(s, field, value)
    s.options = list(args.option)
    return s


def text_accuracy(settings: Settings) -> dict[str, Any]:
    child = run_child(
        "text-accuracy", [python(), str(BENCH / "text_accuracy.py")], settings.work / "logs"
    )
    found = re.search(r"overall accuracy: ([0-9.]+)", child.stdout)
    if not found:
        raise RuntimeError(f"text_accuracy.py printed no accuracy:\n{child.stdout[-500:]}")
    return {"accuracy": float(found.group(1)), "output": child.stdout}


def main(argv: list[str] | None = None) -> int:
    rest = sys.argv[1:] if argv is None else argv
    if rest[:1] == ["soak"]:  # its own options: python -m benchmarks soak --help
        from benchmarks import soak

        return soak.main(rest[1:])
    if rest[:1] == ["diary"]:  # its own options too: python -m benchmarks diary --help
        from benchmarks import diary

        return diary.main(rest[1:])
    if rest[:1] == ["ser"]:  # its own options too: python -m benchmarks ser --help
        from benchmarks import ser_throughput

        return ser_throughput.main(rest[1:])
    if rest[:1] == ["ser-eval"]:  # a voice analyser on labelled clips: ser_eval.py --help
        from benchmarks import ser_eval

        return ser_eval.main(rest[1:])
    if rest[:1] == ["batch"]:  # streamemo batch: 1 worker, 2 workers, the Ray engine
        from benchmarks import batch_throughput

        return batch_throughput.main(rest[1:])
    if rest[:1] == ["vad"]:  # webrtcvad against silero, clean and noisy (vad_compare.py)
        from benchmarks import vad_compare

        return vad_compare.main(rest[1:])
    if rest[:1] == ["realtimestt"]:  # beside RealtimeSTT, run by its own venv (--rstt-python)
        from benchmarks import realtimestt_compare

        return realtimestt_compare.main(rest[1:])
    if rest[:1] == ["calibration"]:  # personal baselines against the presets
        from benchmarks import calibration_report

        return calibration_report.main(rest[1:])
    args = _parser().parse_args(argv)
    if args.render:
        return _render(args.render, args.update_readme)
    selected = [n for n in NAMES if not args.only or n in args.only]
    started = time.monotonic()
    load_note = wait_quiet(args.wait_quiet) if args.wait_quiet else None
    info = machine()
    out_dir = args.out or RESULTS
    out_dir.mkdir(parents=True, exist_ok=True)
    name = f"{date.today():%Y-%m-%d}-{machine_slug(info)}{'-quick' if args.quick else ''}.json"
    command = " ".join(["python -m benchmarks", *(sys.argv[1:] if argv is None else argv)])
    results: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
        "machine": info,
        "command": command,
        "file": shown_path(out_dir / name),
        "load": {"before": loadavg()},
        "load_note": " ".join(filter(None, [load_note, args.load_note])) or None,
        "benchmarks": {},
    }
    with tempfile.TemporaryDirectory(prefix="streamemo-bench-") as tmp:
        settings = _settings(args, Path(tmp))
        results["settings"] = {
            k: (str(v) if isinstance(v, Path) else v) for k, v in vars(settings).items()
        }
        jobs: dict[str, Callable[[], dict[str, Any]]] = {
            "voice": lambda: voice_throughput.run(settings),
            "overhead": lambda: file_overhead.run(settings),
            "scaling": lambda: scaling.run(settings),
            "memory": lambda: _memory_and_file_latency(settings, results, selected),
            "latency": lambda: latency.run(settings, results.get("_latency_file")),
            "text": lambda: text_accuracy(settings),
        }
        for key in selected:
            t0 = time.monotonic()
            try:
                results["benchmarks"][key] = jobs[key]()
            except MissingData as exc:
                results["benchmarks"][key] = {"error": f"skipped: {exc}"}
            except Exception as exc:
                log(f"{key} failed:\n{traceback.format_exc()}")
                results["benchmarks"][key] = {"error": f"{type(exc).__name__}: {exc}"}
            results["benchmarks"][key]["wall_s"] = time.monotonic() - t0
            log(f"{key}: done in {time.monotonic() - t0:.0f} s")
            _write(out_dir / name, results)
    results.pop("_latency_file", None)
    results["load"]["after"] = loadavg()
    results["duration_s"] = time.monotonic() - started
    _write(out_dir / name, results)
    table = report.markdown(results)
    print(report.header(results) + "\n\n" + table)
    if args.update_readme:
        report.update_readme(BENCH / "README.md", results)
    log(f"wrote {out_dir / name}")
    return 1 if any("error" in r for r in results["benchmarks"].values()) else 0


def _memory_and_file_latency(
    settings: Settings, results: dict[str, Any], selected: list[str]
) -> dict[str, Any]:
    """The long real-time run: memory growth, and the paced-file latency for benchmark 3."""
    both = memory.run(settings)
    if "latency" in selected:
        results["_latency_file"] = both["latency_file"]
    return both["memory"]


def _render(path: Path, update_readme: bool) -> int:
    results = json.loads(path.read_text(encoding="utf-8"))
    print(report.header(results) + "\n\n" + report.markdown(results))
    if update_readme:
        report.update_readme(BENCH / "README.md", results)
    return 0


def _write(path: Path, results: dict[str, Any]) -> None:
    tmp = path.with_suffix(".tmp")
    public = {k: v for k, v in results.items() if not k.startswith("_")}
    tmp.write_text(json.dumps(public, indent=1, default=str) + "\n", encoding="utf-8")
    tmp.replace(path)


if __name__ == "__main__":
    raise SystemExit(main())
