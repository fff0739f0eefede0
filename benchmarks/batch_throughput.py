"""``streamemo batch`` throughput: the 49 shared single utterances, 1 worker against 2,
and the Ray engine (a Ray head started here, on this machine) against the local one,
the driver joining the cluster (``HOST:PORT``) and through Ray Client (``ray://``).

    python -m benchmarks batch                 # 1 worker, 2 workers, Ray twice; 2 reps
    python -m benchmarks batch --reps 3 --fast # text and voice models off: Whisper alone

Each run is a fresh ``streamemo batch`` process on a fresh --out (nothing skipped),
timed from its start to its exit: the workers' model loading, and for Ray the
connection to the head, are inside the time; starting the Ray head is not. The runs
alternate (1, 2, Ray, 1, 2, Ray, ...) so that the machine's other load falls on all.
Also per run: files per second from the first file's output to the last one's (the
steady rate, with the start-up and model loading left out).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from benchmarks.common import (
    REPO,
    RESULTS,
    bench_env,
    loadavg,
    log,
    machine,
    machine_slug,
    python,
    shared_path,
)
from benchmarks.ray_head import free_port, local_ray_head

FAST = ["-o", "text.enabled=false", "-o", "audio.enabled=false"]


def audio_seconds(folder: Path) -> float:
    import soundfile

    return sum(soundfile.info(str(p)).duration for p in sorted(folder.glob("*.wav")))


def one_run(folder: Path, out: Path, extra: list[str]) -> dict[str, Any]:
    cmd = [python(), "-m", "streamemo", "-q", "batch", str(folder), "--out", str(out), *extra]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    done = subprocess.run(cmd, cwd=REPO, env=bench_env(), capture_output=True, text=True)
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    # the batch process and its (waited-for) worker processes; a Ray actor is the
    # raylet's child, not ours: its CPU time is not in here
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {done.returncode}:\n{done.stderr[-2000:]}")
    files = json.loads((out / ".streamemo-batch.json").read_text())["files"]
    # the steady part: from the first file's output to the last one's (each is written
    # when its file is done), so model loading and start-up are outside it
    written = sorted(p.stat().st_mtime for p in out.rglob("*.jsonl"))
    return {
        "wall_s": round(wall, 2),
        "steady_files_per_s": round((len(written) - 1) / (written[-1] - written[0]), 3),
        "cpu_s": round(cpu, 1),
        "load_after": loadavg()[0],
        "files": len(files),
        "utterances": sum(f["utterances"] for f in files.values()),
        "summary": done.stdout.strip().splitlines()[-1],
    }


def texts(out: Path) -> dict[str, list[str]]:
    found = {}
    for path in sorted(out.glob("*.jsonl")):
        lines = [json.loads(line) for line in path.read_text().splitlines()]
        found[path.name] = [e["text"] for e in lines if e["type"] == "utterance"]
    return found


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks batch", description=__doc__)
    p.add_argument("--reps", type=int, default=2, help="runs of each setup (median; 2)")
    p.add_argument("--fast", action="store_true", help="text and voice models off")
    p.add_argument("--no-ray", action="store_true", help="the local engine only")
    p.add_argument("--out", type=Path, default=RESULTS, help=f"folder for the JSON ({RESULTS})")
    args = p.parse_args(argv)
    folder = shared_path("audio/en/utterances")
    extra = FAST if args.fast else []
    setups: dict[str, list[str]] = {
        "local, 1 worker": ["--workers", "1"],
        "local, 2 workers": ["--workers", "2"],
    }
    heads = ExitStack()  # the Ray head, if any: stopped once the runs are over
    if not args.no_ray:
        ray_tmp = Path(tempfile.mkdtemp(prefix="streamemo-bench-ray-"))
        client_port = free_port()
        head = heads.enter_context(local_ray_head(ray_tmp, client_port=client_port))
        setups["ray, 2 workers"] = ["--engine", "ray", "--address", head, "--workers", "2"]
        client = f"ray://127.0.0.1:{client_port}"
        setups["ray client, 2 workers"] = ["--engine", "ray", "--address", client, "--workers", "2"]
    results: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
        "machine": machine(),
        "command": " ".join(["python -m benchmarks batch", *(argv or [])]),
        "load": {"before": loadavg()},
        "input": {
            "files": len(list(folder.glob("*.wav"))),
            "audio_s": round(audio_seconds(folder), 1),
            "pipeline": "Whisper tiny.en only" if args.fast else "the default pipeline",
        },
        "runs": {name: [] for name in setups},
    }
    reference: dict[str, list[str]] | None = None
    try:
        with tempfile.TemporaryDirectory(prefix="streamemo-bench-batch-") as tmp:
            for rep in range(args.reps):
                for name, options in setups.items():
                    out = Path(tmp) / f"{rep}-{name.replace(' ', '').replace(',', '-')}"
                    try:
                        run = one_run(folder, out, [*options, *extra])
                    except RuntimeError as exc:  # told in the results, not the end of them
                        log(f"{name} #{rep + 1} failed: {exc}")
                        results["runs"][name].append({"error": str(exc)[-1000:]})
                        continue
                    got = texts(out)
                    reference = reference or got
                    run["same_texts_as_first"] = got == reference
                    results["runs"][name].append(run)
                    log(f"{name} #{rep + 1}: {run['wall_s']:.1f} s ({run['summary']})")
    finally:
        heads.close()
    results["load"]["after"] = loadavg()
    medians = {
        n: statistics.median(r["wall_s"] for r in runs) for n, runs in results["runs"].items()
    }
    results["median_wall_s"] = medians
    one, two = medians["local, 1 worker"], medians["local, 2 workers"]
    results["speedup_2_workers"] = round(one / two, 2)
    steady = {
        n: statistics.median(r["steady_files_per_s"] for r in runs if "steady_files_per_s" in r)
        for n, runs in results["runs"].items()
        if any("steady_files_per_s" in r for r in runs)
    }
    results["median_steady_files_per_s"] = steady
    results["steady_speedup_2_workers"] = round(
        steady["local, 2 workers"] / steady["local, 1 worker"], 2
    )
    if "ray, 2 workers" in medians:
        results["ray_vs_local_2"] = round(medians["ray, 2 workers"] / two, 3)
    if "ray client, 2 workers" in medians:
        results["ray_client_vs_local_2"] = round(medians["ray client, 2 workers"] / two, 3)
    args.out.mkdir(parents=True, exist_ok=True)
    target = args.out / f"{time.strftime('%Y-%m-%d')}-{machine_slug(results['machine'])}-batch.json"
    target.write_text(json.dumps(results, indent=1) + "\n")
    audio = results["input"]["audio_s"]
    print(
        f"{results['input']['files']} files, {audio:.0f} s of audio, {results['input']['pipeline']}"
    )
    print("| setup | runs (s) | median (s) | x real time | files/s after the first, median |")
    print("|---|---|---|---|---|")
    for name, runs in results["runs"].items():
        walls = ", ".join(f"{r['wall_s']:.1f}" if "wall_s" in r else "failed" for r in runs)
        print(
            f"| {name} | {walls} | {medians[name]:.1f} | {audio / medians[name]:.1f} |"
            f" {steady.get(name, float('nan')):.2f} |"
        )
    print(f"2 workers / 1 worker: {results['speedup_2_workers']:.2f}x faster")
    print(
        "2 workers / 1 worker, files/s after the first (start-up left out): "
        f"{results['steady_speedup_2_workers']:.2f}x"
    )
    if "ray_vs_local_2" in results:
        print(f"Ray / local (2 workers): {results['ray_vs_local_2']:.3f} of the time")
    if "ray_client_vs_local_2" in results:
        print(f"Ray Client / local (2 workers): {results['ray_client_vs_local_2']:.3f} of the time")
    log(f"wrote {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
