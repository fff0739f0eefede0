"""The diary benchmark's table (benchmarks/diary.py), and its part of benchmarks/README.md."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchmarks.common import replace_marked

START = "<!-- diary:start (python -m benchmarks diary --update-readme writes this part) -->"
END = "<!-- diary:end -->"
GOAL_S, WRITE_GOAL_MS = 1.0, 5.0


def markdown(r: dict[str, Any]) -> str:
    load, info = r["load"], r["machine"]
    rows = [
        f"Run {r['date']} on `{info['node']}`: {info['cpu']}, {info['cores']} cores, Python "
        f"{info['python']}; load average (1 min) before / after: {r['load_before'][0]:.2f} / "
        f"{r['load_after'][0]:.2f}. Command: `{r['command']}` ({r['duration_s']:.0f} s).  ",
        f"Diary: {load['entries']} entries ({load['days']} days), {load['utterances']} "
        f"utterances, {load['file_mb']:.0f} MiB (generated in {load['generate_s']:.0f} s, not "
        "timed). Median of "
        f"{r['reps']} in-process runs after a warm-up, {r['cli_reps']} CLI runs [min-max].",
        "",
        "| command | in-process | CLI (`python -m streamemo`, start-up included) | goal |",
        "| --- | --- | --- | --- |",
    ]
    for name, t in r["commands"].items():
        marks = [
            f"{way} {'met' if t[key]['median'] < GOAL_S else '**missed**'}"
            for way, key in (("in-process", "in_process"), ("CLI", "cli"))
        ]
        goal = "" if "no goal" in name else "< 1 s: " + ", ".join(marks)
        rows.append(f"| `diary {name}` | {_s(t['in_process'])} | {_s(t['cli'])} | {goal} |")
    rows.append(f"| `streamemo --version` (the CLI's floor) | | {_s(r['startup'])} | |")
    w = r["write"]["ms"]
    ok = w["p95"] < WRITE_GOAL_MS
    rows.append(
        f"| one utterance written (`add_utterance`, own transaction, synchronous="
        f"{r['write']['synchronous']}), p50 / p95 / p99 of {w['n']} | {w['p50']:.2f} / "
        f"{w['p95']:.2f} / {w['p99']:.2f} ms | | p95 < 5 ms: {'met' if ok else '**missed**'} |"
    )
    return "\n".join(rows)


def _s(stat: dict[str, Any]) -> str:
    if stat["n"] < 2:
        return f"{stat['median']:.3f} s"
    return f"{stat['median']:.3f} s [{stat['min']:.3f}-{stat['max']:.3f}]"


def update_readme(path: Path, text: str) -> None:
    replace_marked(path, START, END, text)
