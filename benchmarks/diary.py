"""The voice diary after 3 years: the diary commands and one write on a 100 000-utterance file.

    python -m benchmarks diary                       # 1096 days: about 2-3 minutes
    python -m benchmarks diary --update-readme       # ... and write the table into
                                                     #     benchmarks/README.md
    python -m benchmarks diary --quick --out DIR     # 30 days, 1 repetition (the smoke test)

The diary (benchmarks/diary_data.py: one entry a day, ~91 utterances each) is generated
into a temporary folder first, untimed. Each command is then timed two ways, wall clock:
- in-process: ``streamemo.cli.main(["diary", ...])`` as the CLI calls it (argument parsing,
  opening the file and checking its schema, the work, printing into memory), after one
  untimed warm-up run (imports, the OS's page cache), median of ``--reps`` runs;
- the CLI: ``python -m streamemo diary ...`` in a child process, as a user runs it (Python
  start-up and imports included), stdout to /dev/null, median of ``--cli-reps`` runs;
  ``python -m streamemo --version`` is timed the same way: the floor of any command.
A write is ``Diary.add_utterance`` (one transaction, committed to disk, as the diary sink
does for each utterance) of a new utterance into a new entry of the full diary, timed one
by one: p50 / p95 / p99 over ``--writes`` writes.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

from benchmarks import diary_data
from benchmarks.common import (
    REPO,
    RESULTS,
    loadavg,
    machine,
    machine_slug,
    percentiles,
    publish,
    summary,
)
from benchmarks.diary_report import markdown, update_readme


def commands(work: Path, middle: int) -> list[tuple[str, list[str]]]:
    return [
        ("list", ["list"]),
        ("show ID (one entry)", ["show", str(middle)]),
        ("summary --month", ["summary", "--month"]),
        ("summary --day --json", ["summary", "--day", "--json"]),
        ("search today (common)", ["search", "today"]),
        ("search zeppelin (rare)", ["search", "zeppelin"]),
        ("plot --out x.png", ["plot", "--out", str(work / "x.png")]),
        (
            "export --format json (no goal)",
            ["export", "--format", "json", "--out", str(work / "j")],
        ),
    ]


def in_process(args: list[str], reps: int) -> dict[str, Any]:
    from streamemo.cli import main

    times = []
    for rep in range(reps + 1):
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            t0 = time.perf_counter()
            code = main(args)
            elapsed = time.perf_counter() - t0
        if code != 0:
            raise RuntimeError(f"streamemo {' '.join(args)} exited {code}")
        if rep:  # the first is the warm-up
            times.append(elapsed)
    return summary(times)


def cli(args: list[str], reps: int) -> dict[str, Any]:
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "streamemo", *args], cwd=REPO, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        times.append(time.perf_counter() - t0)
    return summary(times)


def writes(path: Path, n: int) -> dict[str, Any]:
    from streamemo.diary.store import Diary

    scores = diary_data._scores(__import__("numpy").random.default_rng(1), 0.0, 2 * n)
    with Diary(path, create=False) as diary:
        synchronous = diary._db.execute("PRAGMA synchronous").fetchone()[0]
        entry = diary.begin_entry("bench", time.time())
        times = []
        for i in range(n):
            event = diary_data._event(
                i, 2.0 * i, 2.0 * i + 1.5, "a new thing today.", scores[2 * i :]
            )
            t0 = time.perf_counter()
            diary.add_utterance(entry, event)
            times.append((time.perf_counter() - t0) * 1000)
    return {"ms": percentiles(times, (50, 95, 99)), "n": n, "synchronous": synchronous}


def run(days: int, reps: int, cli_reps: int, n_writes: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="streamemo-bench-diary-") as tmp:
        work = Path(tmp)
        path = work / "diary.db"
        t0 = time.perf_counter()
        load: dict[str, Any] = {**diary_data.generate(path, days=days), "days": days}
        load.update(generate_s=time.perf_counter() - t0, file_mb=path.stat().st_size / 2**20)
        out: dict[str, Any] = {"load": load}
        out["startup"] = cli(["--version"], cli_reps)
        out["commands"] = {}
        for name, args in commands(work, days // 2):
            argv = ["diary", *args, "--db", str(path)]
            out["commands"][name] = {
                "in_process": in_process(argv, reps),
                "cli": cli(argv, cli_reps),
            }
            got = out["commands"][name]
            print(f"{name}: {got['in_process']['median']:.3f} s in-process, "
                  f"{got['cli']['median']:.3f} s CLI", file=sys.stderr)  # fmt: skip
        out["write"] = writes(path, n_writes)
    return out


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    p = argparse.ArgumentParser(
        prog="python -m benchmarks diary", description=__doc__.split("\n")[0]
    )
    p.add_argument("--days", type=int, default=1096, help="entries, one a day (1096: 3 years)")
    p.add_argument("--reps", type=int, default=5, help="in-process runs per command (5)")
    p.add_argument("--cli-reps", type=int, default=3, help="CLI runs per command (3)")
    p.add_argument("--writes", type=int, default=2000, help="utterances written one by one")
    p.add_argument("--quick", action="store_true", help="30 days, 1 run each, 50 writes")
    p.add_argument("--out", type=Path, default=RESULTS, help=f"folder for the JSON ({RESULTS})")
    p.add_argument("--update-readme", action="store_true", help="write the table into the README")
    a = p.parse_args(argv)
    if a.quick:
        a.days, a.reps, a.cli_reps, a.writes = 30, 1, 1, 50
    started, info = time.monotonic(), machine()
    results: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
        "machine": info,
        "command": " ".join(["python -m benchmarks diary", *argv]),
        "reps": a.reps,
        "cli_reps": a.cli_reps,
        "load_before": loadavg(),
    }
    results.update(run(a.days, a.reps, a.cli_reps, a.writes))
    results["load_after"], results["duration_s"] = loadavg(), time.monotonic() - started
    name = f"{date.today():%Y-%m-%d}-{machine_slug(info)}-diary{'-quick' if a.quick else ''}.json"
    publish(results, a.out, name, markdown(results), update_readme if a.update_readme else None)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
