"""What every benchmark shares: paths, settings, statistics, machine facts, audio excerpts
with their truth, and child processes measured from outside (wall time, RSS, peak RSS)."""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from streamemo.frames import SAMPLE_RATE

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO / "benchmarks"
RESULTS = BENCH / "results"
PROBE_DIR = BENCH / "probe"  # `streamemo --plugins-dir` loads the probe plugin from here
CONFIG = REPO / "configs" / "offline-en.toml"
MB = 1024 * 1024


class MissingData(RuntimeError):
    """A file from ../shared (or a tool) that a benchmark needs is not there."""


def shared_dir() -> Path:
    return Path(os.environ.get("STREAMEMO_SHARED", REPO.parent / "shared")).resolve()


def shared_path(relative: str) -> Path:
    path = shared_dir() / relative
    if not path.exists():
        raise MissingData(f"needs {path} from the shared data (set STREAMEMO_SHARED)")
    return path


@dataclass
class Settings:
    """What the command line chose; ``quick`` shrinks every input for the smoke test."""

    quick: bool = False
    reps: int = 3  # repetitions of the file-overhead runs (the voice benchmark: 5 at least)
    utterances: int | None = None  # how many of the 49 single utterances (None: all)
    threads: int = os.cpu_count() or 1  # Whisper's cpu_threads, for streamemo and alone alike
    scaling_minutes: list[float] = field(default_factory=lambda: [1.0, 2.0, 4.0, 8.0])
    scaling_reps: int = 2
    memory_minutes: float = 10.0
    memory_warmup_s: float = 120.0  # RSS growth is measured after this much stream time
    rss_every_s: float = 1.0
    vmic_seconds: float | None = None  # None: the whole en_long.wav through the virtual mic
    overhead_seconds: float | None = None  # None: the whole en_long.wav in file mode
    work: Path = Path("/tmp/streamemo-bench")
    # -o KEY=VALUE for every streamemo run (pipeline.speculate=false, segmenter.name=silero)
    options: list[str] = field(default_factory=list)

    @classmethod
    def quick_settings(cls, work: Path) -> Settings:
        return cls(
            quick=True,
            reps=1,
            utterances=2,
            scaling_minutes=[0.1, 0.2],
            scaling_reps=1,
            memory_minutes=0.2,  # cut in the pause at 9 s: two utterances
            memory_warmup_s=4.0,
            rss_every_s=0.25,
            vmic_seconds=8.0,
            overhead_seconds=12.0,
            work=work,
        )


# -- statistics ----------------------------------------------------------------------------
def summary(values: list[float]) -> dict[str, Any]:
    """Median and spread (min, max) of repeated measurements, with the values themselves."""
    arr = np.asarray(values, dtype=float)
    if not len(arr):
        return {"n": 0, "median": None, "min": None, "max": None, "values": []}
    return {
        "n": len(arr),
        "median": float(np.median(arr)),
        "min": float(arr.min()),
        "max": float(arr.max()),
        "values": [float(v) for v in arr],
    }


def percentiles(values: list[float], qs: tuple[int, ...] = (50, 95)) -> dict[str, Any]:
    arr = np.asarray(values, dtype=float)
    out: dict[str, Any] = {"n": len(arr)}
    for q in qs:
        out[f"p{q}"] = float(np.percentile(arr, q)) if len(arr) else None
    out["min"] = float(arr.min()) if len(arr) else None
    out["max"] = float(arr.max()) if len(arr) else None
    return out


def fmt_spread(stat: dict[str, Any], digits: int = 2, unit: str = "") -> str:
    """``12.3 s [11.9-12.8]``: the median, then the range over the repetitions."""
    if not stat or stat.get("median") is None:
        return "n/a"
    med = f"{stat['median']:.{digits}f}{unit}"
    if stat.get("n", 0) < 2:
        return f"{med} (1 run)"
    return f"{med} [{stat['min']:.{digits}f}-{stat['max']:.{digits}f}]"


# -- the machine -----------------------------------------------------------------------------
def loadavg() -> list[float]:
    try:
        return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]
    except OSError:
        return [float("nan")] * 3


def wait_quiet(limit_s: float) -> str | None:
    """Wait up to ``limit_s`` for the 1-min load average to drop under 1.5; a note for the
    README when it did not."""
    deadline = time.monotonic() + limit_s
    while (load := loadavg()[0]) > 1.5:
        if time.monotonic() >= deadline:
            return f"1-min load was still {load:.2f} after waiting {limit_s / 60:.0f} min"
        log(f"load {load:.2f} > 1.5: waiting for a quieter machine")
        time.sleep(min(30.0, max(1.0, deadline - time.monotonic())))
    return None


def add_wait_quiet_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="first wait up to this long for the 1-min load average to drop under 1.5",
    )


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _version(module: str) -> str | None:
    try:
        from importlib.metadata import version

        return version(module)
    except Exception:
        return None


def machine() -> dict[str, Any]:
    mem_total = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_total = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return {
        "node": platform.node(),
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "memory_gb": mem_total,
        "os": platform.platform(),
        "python": platform.python_version(),
        "packages": {
            name: _version(name)
            for name in ("torch", "ctranslate2", "faster-whisper", "librosa", "numpy", "streamemo")
        },
    }


def machine_slug(info: dict[str, Any]) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", info["node"] or "machine").strip("-") or "machine"


# -- audio inputs ------------------------------------------------------------------------------
@dataclass
class Clip:
    """A wav file and the true utterances in it (stream seconds)."""

    path: Path
    seconds: float
    truth: list[dict[str, Any]]


def long_clip() -> Clip:
    wav = shared_path("audio/en/en_long.wav")
    meta = json.loads(shared_path("audio/en/en_long.json").read_text(encoding="utf-8"))
    return Clip(wav, float(meta["seconds"]), meta["utterances"])


def excerpt(source: Clip, seconds: float, dst: Path) -> Clip:
    """``source`` looped (whole) as often as needed and cut to about ``seconds``: at the middle
    of the last pause before that length, so no utterance is cut in half. Truth follows."""
    import soundfile

    audio, rate = soundfile.read(source.path, dtype="int16")
    if rate != SAMPLE_RATE:
        raise MissingData(f"{source.path} is {rate} Hz; the benchmarks expect 16 kHz")
    loops = int(np.ceil(seconds / source.seconds)) + 1
    truth = [
        {**u, "start": u["start"] + k * source.seconds, "end": u["end"] + k * source.seconds}
        for k in range(loops)
        for u in source.truth
    ]
    kept = [u for u in truth if u["end"] <= seconds]
    if not kept:
        raise ValueError(f"{seconds} s holds no whole utterance of {source.path.name}")
    later = [u["start"] for u in truth if u["start"] > kept[-1]["end"]]
    cut = min((kept[-1]["end"] + later[0]) / 2, seconds) if later else seconds
    total = np.tile(audio, loops)[: int(cut * SAMPLE_RATE)]
    dst.parent.mkdir(parents=True, exist_ok=True)
    soundfile.write(dst, total, SAMPLE_RATE, subtype="PCM_16")
    return Clip(dst, len(total) / SAMPLE_RATE, kept)


# -- measured child processes -------------------------------------------------------------------
def bench_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONUNBUFFERED": "1"}
    env.update(extra or {})
    return env


def _rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        return None
    return None


@dataclass
class ChildResult:
    name: str
    returncode: int
    started: float  # time.monotonic() just before the child was spawned
    ended: float  # time.monotonic() when it was reaped
    peak_rss_mb: float  # ru_maxrss from wait4: the kernel's own peak
    rss: list[tuple[float, float]]  # (seconds since spawn, MB), when sampled
    stdout: str
    stderr: str

    @property
    def wall_s(self) -> float:
        return self.ended - self.started

    def check(self) -> ChildResult:
        if self.returncode != 0:
            tail = "\n".join(self.stderr.strip().splitlines()[-15:])
            raise RuntimeError(f"{self.name} exited {self.returncode}:\n{tail}")
        return self


class Child:
    """A child process, RSS sampled from /proc while it runs, peak RSS from wait4()."""

    def __init__(
        self,
        name: str,
        cmd: list[str],
        logs: Path,
        *,
        env: dict[str, str] | None = None,
        rss_every_s: float | None = None,
    ):
        logs.mkdir(parents=True, exist_ok=True)
        self.name = name
        self._out_path, self._err_path = logs / f"{name}.out", logs / f"{name}.err"
        self._out, self._err = self._out_path.open("w"), self._err_path.open("w")
        self.rss: list[tuple[float, float]] = []
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            cmd, cwd=REPO, env=env or bench_env(), stdout=self._out, stderr=self._err
        )
        self._done = threading.Event()
        self._result: ChildResult | None = None
        self._sampler = None
        if rss_every_s:
            self._sampler = threading.Thread(target=self._sample, args=(rss_every_s,), daemon=True)
            self._sampler.start()

    def _sample(self, every: float) -> None:
        while not self._done.is_set():
            mb = _rss_mb(self.proc.pid)
            if mb is not None:
                self.rss.append((time.monotonic() - self.started, mb))
            self._done.wait(every)

    def alive(self) -> bool:
        if self._result is not None:
            return False
        try:
            return os.waitid(os.P_PID, self.proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None
        except ChildProcessError:
            return False

    def interrupt(self) -> None:
        """Ctrl-C: streamemo finishes the utterance in progress, flushes and exits 0."""
        if self.alive():
            self.proc.send_signal(signal.SIGINT)

    def wait(self, timeout: float | None = None) -> ChildResult:
        if self._result is not None:
            return self._result
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            pid, status, usage = os.wait4(self.proc.pid, os.WNOHANG)
            if pid:
                break
            if deadline is not None and time.monotonic() > deadline:
                self.proc.kill()
                pid, status, usage = os.wait4(self.proc.pid, 0)
                break
            time.sleep(0.02)
        ended = time.monotonic()
        self.proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        self._done.set()
        if self._sampler is not None:
            self._sampler.join()
        self._out.close()
        self._err.close()
        self._result = ChildResult(
            name=self.name,
            returncode=self.proc.returncode,
            started=self.started,
            ended=ended,
            peak_rss_mb=usage.ru_maxrss / 1024,
            rss=self.rss,
            stdout=self._out_path.read_text(errors="replace"),
            stderr=self._err_path.read_text(errors="replace"),
        )
        return self._result


def run_child(
    name: str,
    cmd: list[str],
    logs: Path,
    *,
    env: dict[str, str] | None = None,
    rss_every_s: float | None = None,
    timeout: float | None = None,
) -> ChildResult:
    return Child(name, cmd, logs, env=env, rss_every_s=rss_every_s).wait(timeout).check()


def python() -> str:
    return sys.executable


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def replace_marked(path: Path, start: str, end: str, text: str, heading: str = "") -> None:
    """The part of a README between two marker lines becomes ``text``; with no markers
    yet, the part is added at the end under ``heading``."""
    old = path.read_text(encoding="utf-8")
    if start not in old:
        path.write_text(
            f"{old.rstrip()}\n\n{heading}\n\n{start}\n{text}\n{end}\n", encoding="utf-8"
        )
        return
    head, rest = old.split(start, 1)
    tail = rest.split(end, 1)[1]
    path.write_text(f"{head}{start}\n{text}\n{end}{tail}", encoding="utf-8")


def shown_path(path: Path) -> str:
    """A results file as the README cites it: relative to the repository when inside it."""
    try:
        return str(path.resolve().relative_to(REPO))
    except ValueError:
        return str(path)


def render_saved(
    saved: Path,
    markdown: Callable[[dict[str, Any]], str],
    update_readme: Callable[[Path, dict[str, Any]], None] | None = None,
) -> int:
    """``--render JSON``: an earlier run's table printed (and with ``update_readme``
    written into benchmarks/README.md), nothing run."""
    results = json.loads(saved.read_text(encoding="utf-8"))
    print(markdown(results))
    if update_readme is not None:
        update_readme(REPO / "benchmarks" / "README.md", results)
    return 0


def publish(
    results: dict[str, Any],
    folder: Path,
    name: str,
    text: str,
    update: Callable[[Path, str], None] | None = None,
) -> None:
    """A run's results kept as ``folder/name`` (JSON), its table printed, and with
    ``update`` (the report's update_readme) written into benchmarks/README.md."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    print(text)
    if update is not None:
        update(REPO / "benchmarks" / "README.md", text)
