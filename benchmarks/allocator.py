"""malloc tuned (``streamemo.allocator``, the default) against glibc's own settings
(``STREAMEMO_MALLOC=system``), on the batch worker's own analysis of shared utterances.

Each run is a fresh process: it builds one batch ``Worker`` (the default pipeline), analyses
the first file (warm-up, not counted), then ``--files`` more one after the other; timed and
counted (wall, user and system CPU, minor page faults) from the second file to the last;
peak RSS for the whole process. The two settings alternate, ``--reps`` times each.

    python -m benchmarks.allocator                 # about 3 minutes on 2 cores
    python -m benchmarks.allocator --threads 1     # as each of 2 batch workers runs
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

from benchmarks.common import REPO, bench_env, machine, shared_path

CHILD = """
import glob, json, resource, sys, time
from streamemo.batch.worker import Setup, Worker
threads, count, folder = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
worker = Worker(Setup(threads=threads or None))
files = sorted(glob.glob(folder + "/*.wav"))[: count + 1]
worker.analyse(files[0])
r0, t0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
for path in files[1:]:
    worker.analyse(path)
r1, t1 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
print(json.dumps({
    "wall_s": t1 - t0, "user_s": r1.ru_utime - r0.ru_utime, "sys_s": r1.ru_stime - r0.ru_stime,
    "faults": r1.ru_minflt - r0.ru_minflt, "peak_rss_mb": r1.ru_maxrss / 1024,
}))
"""


def one_run(setting: str, threads: int, files: int) -> dict[str, float]:
    folder = shared_path("audio/en/utterances")
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(threads), str(files), str(folder)],
        cwd=REPO,
        env=bench_env({"STREAMEMO_MALLOC": setting}),
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=0, help="worker threads (0: default)")
    parser.add_argument("--files", type=int, default=20, help="files timed per run")
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    print(f"# {machine()['cpu']}, threads {args.threads or 'default'}, {args.files} files")
    runs: dict[str, list[dict[str, float]]] = {"system": [], "tuned": []}
    for _ in range(args.reps):
        for setting in runs:
            runs[setting].append(one_run(setting, args.threads, args.files))
    print("| malloc | wall (s) | user CPU (s) | system CPU (s) | page faults | peak RSS (MB) |")
    print("|---|---|---|---|---|---|")
    for setting, found in runs.items():
        cells = [
            statistics.median(r[key] for r in found)
            for key in ("wall_s", "user_s", "sys_s", "faults", "peak_rss_mb")
        ]
        walls = ", ".join(f"{r['wall_s']:.1f}" for r in found)
        print(
            f"| {setting} | {cells[0]:.2f} ({walls}) | {cells[1]:.1f} | {cells[2]:.2f} "
            f"| {cells[3]:,.0f} | {cells[4]:.0f} |"
        )
    ratio = statistics.median(r["wall_s"] for r in runs["system"]) / statistics.median(
        r["wall_s"] for r in runs["tuned"]
    )
    print(f"# tuned is {ratio:.2f}x as fast (median wall)")


if __name__ == "__main__":
    main()
