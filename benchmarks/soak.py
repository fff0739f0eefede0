"""The soak: an hour of speech played in real time into the virtual microphone.

    python -m benchmarks soak                            # 60 min of audio: about 61 min
    python -m benchmarks soak --minutes 3 --out /tmp/s   # a short check
    python -m benchmarks soak --update-readme            # ... and write the figures into
                                                         #     benchmarks/README.md
    python -m benchmarks soak --render FILE.json --update-readme   # figures of an earlier run

What is played: en_long.wav (214 s, 49 sentences) and en_diary.wav (44 s, 10 sentences),
alternating, ``--gap`` seconds of digital silence after each, as one WAV cut to
``--minutes`` in a pause (the last piece may be cut between two sentences). Every
sentence's true start and end in that WAV come from the recordings' .json truth.

How: ../shared/tools/vmic.sh with a PulseAudio daemon of our own (its own VMIC_DIR); the
real ``streamemo run --config configs/offline-en.toml -o audio.model=... --sink jsonl:F``
records it as a microphone (no --input) in a child process. Once it says ``listening`` and
has logged every model as loaded (the text and voice models load in the background while
audio already flows: up to 20 s on a busy 2-core machine, which is start-up, not the steady
state a soak is about) and one more second has passed, one ``paplay`` plays the whole WAV.
After it ends, we wait for the last sentence's event (at most ``--drain`` seconds), then
send SIGINT (Ctrl-C) and wait for the exit.

What is measured:
- events: every played sentence should give exactly one utterance event. An event belongs
  to every sentence its span (stream seconds, shifted onto the WAV by the play clock)
  overlaps: a sentence with none is *lost*, with two or more *split*; an event over two or
  more sentences is *merged*, over none *extra*.
- latency: the Unix time the event's line was read from the jsonl file (polled every
  20 ms) minus the Unix time the sentence's true end was played (the moment paplay was
  started + the end's second in the WAV); also the event's own ``latency_ms``. p50 / p95
  per ``--slice-minutes`` slice (by the sentence's true end); drift = last slice - first.
- RSS of the streamemo process (and, apart, of its capture process) every ``--rss-every``
  seconds: growth = median of the last ``--window-minutes`` minus the median of the first
  ``--window-minutes`` after ``--warmup-minutes`` of playing; the peak.
- the mic's counters (overflows, input_overflows, reconnects) from the final ``stopped``
  status, and every status the run emitted (overflow, device-lost, ...).
- the exit: whether the ``stopped`` status came after Ctrl-C, the exit code, how long it took.
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections import Counter
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import (
    BENCH,
    CONFIG,
    RESULTS,
    SAMPLE_RATE,
    Child,
    Clip,
    MissingData,
    _rss_mb,
    add_wait_quiet_option,
    bench_env,
    loadavg,
    log,
    long_clip,
    machine,
    machine_slug,
    percentiles,
    python,
    render_saved,
    shared_path,
    shown_path,
    wait_quiet,
)
from benchmarks.vmic import VirtualMic

README_START = "<!-- soak:start (python -m benchmarks soak --update-readme writes this part) -->"
README_END = "<!-- soak:end -->"


# -- what is played --------------------------------------------------------------------------
def diary_clip() -> Clip:
    wav = shared_path("audio/en/en_diary.wav")
    meta = json.loads(shared_path("audio/en/en_diary.json").read_text(encoding="utf-8"))
    return Clip(wav, float(meta["seconds"]), meta["utterances"])


@dataclass
class Program:
    """The WAV that is played and the truth of every sentence in it (WAV seconds)."""

    path: Path
    seconds: float
    truth: list[dict[str, Any]]  # start, end, text, source (file name)
    pieces: list[str]  # file names in play order ("... (cut)" for a cut last piece)


def build_program(seconds: float, gap_s: float, dst: Path) -> Program:
    """en_long and en_diary alternating, ``gap_s`` of silence after each, written to ``dst``
    piece by piece (an hour is 115 MB) and cut in the middle of a pause before ``seconds``."""
    import soundfile

    clips = [long_clip(), diary_clip()]
    audio = {}
    for clip in clips:
        data, rate = soundfile.read(clip.path, dtype="int16")
        if rate != SAMPLE_RATE:
            raise MissingData(f"{clip.path} is {rate} Hz; the soak expects 16 kHz")
        audio[clip.path.name] = data
    gap = np.zeros(round(gap_s * SAMPLE_RATE), np.int16)
    truth: list[dict[str, Any]] = []
    pieces: list[str] = []
    dst.parent.mkdir(parents=True, exist_ok=True)
    written = 0  # samples
    with soundfile.SoundFile(dst, "w", SAMPLE_RATE, 1, "PCM_16") as out:
        for n in itertools.count():
            clip = clips[n % len(clips)]
            data, at = audio[clip.path.name], written / SAMPLE_RATE
            if at + len(data) / SAMPLE_RATE > seconds:  # the last piece: cut in a pause
                kept = [u for u in clip.truth if at + u["end"] <= seconds]
                if kept:
                    later = [u["start"] for u in clip.truth if u["start"] > kept[-1]["end"]]
                    cut = (kept[-1]["end"] + later[0]) / 2 if later else len(data) / SAMPLE_RATE
                    cut = min(cut, seconds - at)
                    out.write(data[: int(cut * SAMPLE_RATE)])
                    written += int(cut * SAMPLE_RATE)
                    truth += _shifted(kept, at, clip.path.name)
                    pieces.append(f"{clip.path.name} (cut at {cut:.1f} s)")
                break
            out.write(data)
            truth += _shifted(clip.truth, at, clip.path.name)
            pieces.append(clip.path.name)
            written += len(data)
            if (written + len(gap)) / SAMPLE_RATE <= seconds:
                out.write(gap)
                written += len(gap)
    if not truth:
        raise ValueError(f"{seconds:.0f} s holds no whole sentence of {clips[0].path.name}")
    return Program(dst, written / SAMPLE_RATE, truth, pieces)


def _shifted(utterances: list[dict[str, Any]], at: float, source: str) -> list[dict[str, Any]]:
    return [
        {"start": at + u["start"], "end": at + u["end"], "text": u["text"], "source": source}
        for u in utterances
    ]


# -- what comes out --------------------------------------------------------------------------
class SinkTail(threading.Thread):
    """Reads the jsonl sink's file as it grows: (Unix time the line was read, the event)."""

    def __init__(self, path: Path, every_s: float = 0.02):
        super().__init__(name="sink-tail", daemon=True)
        self.path, self.every_s = path, every_s
        self.events: list[tuple[float, dict[str, Any]]] = []
        self.bad_lines = 0
        self._halt = threading.Event()
        self._pending = ""

    def run(self) -> None:
        while not self.path.exists() and not self._halt.wait(self.every_s):
            pass
        if not self.path.exists():
            return
        with self.path.open("r", encoding="utf-8") as f:
            while True:
                stopping = self._halt.is_set()
                self._read(f)
                if stopping:
                    return
                self._halt.wait(self.every_s)

    def _read(self, f) -> None:
        chunk = f.read()
        if not chunk:
            return
        now = time.time()
        lines = (self._pending + chunk).split("\n")
        self._pending = lines.pop()  # an incomplete last line waits for its end
        for line in lines:
            if not line.strip():
                continue
            try:
                self.events.append((now, json.loads(line)))
            except ValueError:
                self.bad_lines += 1  # not JSON (NaN is JSON to Python, so that is not it)

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=10)

    def utterances(self) -> list[tuple[float, dict[str, Any]]]:
        return [(t, e) for t, e in list(self.events) if e.get("type") == "utterance"]

    def status(self, state: str) -> tuple[float, dict[str, Any]] | None:
        found = [(t, e) for t, e in list(self.events) if _is_status(e, state)]
        return found[-1] if found else None


def _is_status(event: dict[str, Any], state: str) -> bool:
    return event.get("type") == "status" and event.get("state") == state


class TreeRss(threading.Thread):
    """RSS of a process and, apart, of all its descendants (the capture process)."""

    def __init__(self, pid: int, every_s: float):
        super().__init__(name="rss", daemon=True)
        self.pid, self.every_s = pid, every_s
        self.samples: list[tuple[float, float, float]] = []  # (Unix time, main MB, children MB)
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            main = _rss_mb(self.pid)
            if main is None:
                return
            children = sum(_rss_mb(p) or 0.0 for p in _descendants(self.pid))
            self.samples.append((time.time(), main, children))
            self._halt.wait(self.every_s)

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=10)


def _descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        parent = todo.pop()
        for task in Path(f"/proc/{parent}/task").glob("*"):
            try:
                kids = [int(k) for k in (task / "children").read_text().split()]
            except (OSError, ValueError):
                continue
            found += kids
            todo += kids
    return found


# -- matching and figures ---------------------------------------------------------------------
def classify(
    spans: list[tuple[float, float]], truth: list[dict[str, Any]], offset: float
) -> dict[str, Any]:
    """Events (stream-second spans) against the true sentences (WAV seconds + ``offset``).

    An event belongs to every sentence it overlaps. ``pairs``: sentence -> event where the
    two have only each other; the rest is lost (no event), split (several), merged (one
    event over several sentences) or extra (an event over no sentence)."""
    ends = np.array([offset + t["end"] for t in truth])
    starts = np.array([offset + t["start"] for t in truth])
    of_event: list[list[int]] = []
    of_truth: dict[int, list[int]] = {}
    for k, (start, end) in enumerate(spans):
        # sentences are sorted and apart: only those ending after this start can overlap
        first = int(np.searchsorted(ends, start, side="right"))
        hit = [i for i in range(first, len(truth)) if starts[i] < end]
        of_event.append(hit)
        for i in hit:
            of_truth.setdefault(i, []).append(k)
    pairs = {i: ks[0] for i, ks in of_truth.items() if len(ks) == 1 and len(of_event[ks[0]]) == 1}
    return {
        "pairs": pairs,
        "lost": [i for i in range(len(truth)) if i not in of_truth],
        "split": sorted(i for i, ks in of_truth.items() if len(ks) > 1),
        "merged": [k for k, hit in enumerate(of_event) if len(hit) > 1],
        "extra": [k for k, hit in enumerate(of_event) if not hit],
    }


def _slices(rows: list[dict[str, float]], slice_s: float, total_s: float) -> list[dict[str, Any]]:
    out = []
    for k in range(max(1, int(np.ceil(total_s / slice_s - 1e-9)))):
        lo, hi = k * slice_s, (k + 1) * slice_s
        inside = [r for r in rows if lo <= r["true_end_s"] < hi]
        out.append(
            {
                "from_s": lo,
                "to_s": min(hi, total_s),
                "sentences": len(inside),
                **{
                    key: percentiles([r[key] for r in inside])
                    for key in ("latency_ms", "own_latency_ms", "vad_end_ms", "whisper_ms")
                },
            }
        )
    return out


def _drift(slices: list[dict[str, Any]]) -> dict[str, Any]:
    full = [s for s in slices if s["sentences"]]
    if len(full) < 2:
        return {"reason": "fewer than two slices with sentences"}
    first, last = full[0], full[-1]
    return {
        f"{key}_{q}": last[key][q] - first[key][q]
        for key in ("latency_ms", "own_latency_ms", "vad_end_ms")
        for q in ("p50", "p95")
    }


def rss_figures(
    samples: list[tuple[float, float, float]], warmup_s: float, window_s: float, end_s: float
) -> dict[str, Any]:
    """``samples``: (play second, main MB, children MB). Growth = median of the last window
    minus the median of the first window after the warm-up (windows shrink on short runs)."""
    if end_s < warmup_s + 2 * window_s:  # a short run: a quarter warm-up, thirds after it
        warmup_s = end_s / 4
        window_s = (end_s - warmup_s) / 3
    t = np.array([s[0] for s in samples])
    main = np.array([s[1] for s in samples])
    kids = np.array([s[2] for s in samples])
    early = (t >= warmup_s) & (t < warmup_s + window_s)
    late = (t >= end_s - window_s) & (t <= end_s)
    out: dict[str, Any] = {
        "warmup_s": warmup_s,
        "window_s": window_s,
        "samples": len(samples),
        "peak_sampled_mb": float(main.max()) if len(main) else None,
        "capture_process_peak_mb": float(kids.max()) if len(kids) else None,
    }
    if early.sum() < 2 or late.sum() < 2:
        return {**out, "growth_mb": None, "reason": "too few RSS samples after the warm-up"}
    after = (t >= warmup_s) & (t <= end_s)
    out.update(
        first_window_median_mb=float(np.median(main[early])),
        last_window_median_mb=float(np.median(main[late])),
        growth_mb=float(np.median(main[late]) - np.median(main[early])),
        slope_mb_per_hour=float(np.polyfit(t[after], main[after], 1)[0] * 3600),
        capture_process_growth_mb=float(np.median(kids[late]) - np.median(kids[early])),
    )
    return out


def analyse(
    program: Program,
    utterances: list[tuple[float, dict[str, Any]]],
    *,
    began: float,
    stream_start: float,
    slice_s: float,
) -> dict[str, Any]:
    """Events and latency. ``began``: Unix time paplay was started (WAV second 0);
    ``stream_start``: Unix time of stream second 0 (the ``listening`` status).

    The stream clock runs ahead of the play clock by a constant (the capture starts before
    ``stream_start`` is stamped: 0.1-0.6 s on a busy machine), and pauses are 0.7 s, so the
    truth is moved by the median (event end - true end) of a first matching before it is
    matched again for good. Latency stays on the play clock."""
    play_offset = began - stream_start  # WAV second 0 in stream seconds, on the play clock
    spans = [(e["start"], e["end"]) for _, e in utterances]
    first = classify(spans, program.truth, play_offset)["pairs"]
    ahead = float(
        np.median([spans[k][1] - (play_offset + program.truth[i]["end"]) for i, k in first.items()])
        if first
        else 0.0
    )
    offset = play_offset + ahead
    found = classify(spans, program.truth, offset)
    rows = []
    for i, k in sorted(found["pairs"].items()):
        arrived, event = utterances[k]
        true_end = program.truth[i]["end"]
        rows.append(
            {
                "true_end_s": true_end,
                "latency_ms": (arrived - (began + true_end)) * 1000,
                "own_latency_ms": float(event["latency_ms"]),
                "vad_end_ms": (event["end"] - (play_offset + true_end)) * 1000,
                "whisper_ms": float(event.get("timing", {}).get("transcribe_ms", 0.0)),
            }
        )
    slices = _slices(rows, slice_s, program.seconds)

    def shown_truth(i: int) -> dict[str, Any]:
        t = program.truth[i]
        return {"start": round(t["start"], 3), "end": round(t["end"], 3), "text": t["text"]}

    def shown_event(k: int) -> dict[str, Any]:
        e = utterances[k][1]
        return {"start": e["start"] - offset, "end": e["end"] - offset, "text": e.get("text")}

    return {
        "events": {
            "sentences_played": len(program.truth),
            "utterance_events": len(utterances),
            "one_to_one": len(found["pairs"]),
            "lost": len(found["lost"]),
            "split": len(found["split"]),
            "merged": len(found["merged"]),
            "extra": len(found["extra"]),
            # the first 20 of each, in WAV seconds, to look at
            "lost_sentences": [shown_truth(i) for i in found["lost"][:20]],
            "split_sentences": [shown_truth(i) for i in found["split"][:20]],
            "merged_events": [shown_event(k) for k in found["merged"][:20]],
            "extra_events": [shown_event(k) for k in found["extra"][:20]],
        },
        "latency": {
            "play_offset_s": play_offset,
            "stream_clock_ahead_ms": ahead * 1000,  # the truth was matched with this shift
            "slice_s": slice_s,
            **{
                key: percentiles([r[key] for r in rows])
                for key in ("latency_ms", "own_latency_ms", "vad_end_ms", "whisper_ms")
            },
            "slices": slices,
            "drift": _drift(slices),
        },
    }


# -- the run -----------------------------------------------------------------------------------
def command(jsonl: Path, overrides: list[str]) -> list[str]:
    cmd = [python(), "-m", "streamemo", "run", "--config", str(CONFIG)]
    cmd += ["-o", f"audio.model={shared_path('models/todai-audio-v1')}"]
    for item in overrides:
        cmd += ["-o", item]
    return [*cmd, "--sink", f"jsonl:{jsonl}"]


_LOADED = re.compile(r"loaded (\w+) '[^']*' in ([0-9.]+) s")
MODELS = ("transcriber", "text", "audio")


def _wait_for_models(stderr: Path, child: Child, timeout: float) -> dict[str, float]:
    """Stage -> load seconds, once streamemo logged the three models as loaded (or after
    ``timeout``: then the soak goes on and says which did not say so)."""
    deadline = time.monotonic() + timeout
    while True:
        text = stderr.read_text(errors="replace") if stderr.exists() else ""
        loads = {m[1]: float(m[2]) for m in _LOADED.finditer(text)}
        if all(name in loads for name in MODELS):
            return loads
        if not child.alive():
            raise RuntimeError(f"streamemo exited while loading:\n{text[-2000:]}")
        if time.monotonic() > deadline:
            log(f"soak: after {timeout:.0f} s, no 'loaded' line for {set(MODELS) - set(loads)}")
            return loads
        time.sleep(0.2)


def _wait(predicate, child: Child, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if not child.alive():
            raise RuntimeError(f"streamemo exited while {what}:\n{child.wait().stderr[-2000:]}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"streamemo: no {what} after {timeout:.0f} s")
        time.sleep(0.1)


def soak(opts: argparse.Namespace, work: Path) -> dict[str, Any]:
    program = build_program(opts.minutes * 60, opts.gap, work / "soak.wav")
    log(
        f"soak: {program.seconds / 60:.1f} min, {len(program.truth)} sentences "
        f"({len(program.pieces)} pieces) through the virtual microphone"
    )
    jsonl, logs = work / "events.jsonl", work / "logs"
    cmd = command(jsonl, opts.override or [])
    mic = VirtualMic("soak")
    player: subprocess.Popen | None = None
    child: Child | None = None
    try:
        spawned = time.time()
        child = Child("soak-streamemo", cmd, logs, env=bench_env(mic.client_env))
        tail, rss = SinkTail(jsonl), TreeRss(child.proc.pid, opts.rss_every)
        tail.start()
        rss.start()
        _wait(lambda: tail.status("listening"), child, 600, "listening status")
        listening = tail.status("listening")
        loads = _wait_for_models(logs / "soak-streamemo.err", child, opts.load_timeout)
        time.sleep(1.0)  # a second of silence before speech, as a person would
        player, began, began_mono = mic.start_play(program.path)
        next_log = began_mono + opts.log_every
        while player.poll() is None and child.alive():
            if time.monotonic() >= next_log:
                next_log += opts.log_every
                _progress(program, tail, rss, began)
            time.sleep(0.5)
        played = time.time()
        if player.poll() is None:
            player.kill()
        player_stderr = player.stderr.read().decode(errors="replace") if player.stderr else ""
        # the last sentence's event (its end in stream seconds), at most --drain seconds
        last_end = began - listening[1]["stream_start"] + program.truth[-1]["end"]
        deadline = time.monotonic() + opts.drain
        while time.monotonic() < deadline and child.alive():
            if any(e["end"] >= last_end - 1.0 for _, e in tail.utterances()):
                break
            time.sleep(0.1)
        interrupted, alive = time.time(), child.alive()
        child.interrupt()  # Ctrl-C: finish what was heard, emit "stopped", exit 0
        result = child.wait(timeout=opts.exit_timeout)
        exited = time.time()
        rss.stop()
        tail.stop()
    finally:
        if player is not None and player.poll() is None:
            player.kill()
        if child is not None and child.alive():  # the soak failed half-way: leave nothing
            child.proc.kill()
            child.wait()
        mic.stop()

    figures = analyse(
        program,
        tail.utterances(),
        began=began,
        stream_start=listening[1]["stream_start"],
        slice_s=opts.slice_minutes * 60
        if opts.slice_minutes
        else (600.0 if program.seconds >= 1200 else program.seconds / 3),
    )
    stopped = tail.status("stopped")
    statuses = Counter(e["state"] for _, e in tail.events if e.get("type") == "status")
    counters = (stopped or (0, {}))[1].get("counters", {})
    samples = [(t - began, main, kids) for t, main, kids in rss.samples]
    return {
        "program": {
            "audio_seconds": program.seconds,
            "sentences": len(program.truth),
            "gap_s": opts.gap,
            "pieces": _runs(program.pieces),
            "wav_mb": round(program.path.stat().st_size / 1024**2, 1),
        },
        "command": " ".join(cmd),
        "model_load_s": loads,
        "timeline_s": {
            "spawn_to_listening": listening[0] - spawned,
            "spawn_to_play": began - spawned,
            "play_wall": played - began,
            "played_to_interrupt": interrupted - played,
            "interrupt_to_exit": exited - interrupted,
            "total": exited - spawned,
        },
        **figures,
        "rss": {
            **rss_figures(
                samples, opts.warmup_minutes * 60, opts.window_minutes * 60, program.seconds
            ),
            "peak_rss_mb": result.peak_rss_mb,  # the kernel's (wait4's ru_maxrss)
            "every_s": opts.rss_every,
            # (play second, main MB, capture MB), thinned to at most ~400 points
            "series": [
                (round(t, 1), round(m, 1), round(k, 1))
                for t, m, k in samples[:: max(1, len(samples) // 400)]
            ],
        },
        "counters": counters,
        "statuses": dict(statuses),
        "exit": {
            "code": result.returncode,
            "alive_until_interrupt": alive,
            "stopped_status": stopped is not None,
            "stopped_after_interrupt": stopped is not None and stopped[0] >= interrupted,
            "utterances_counter_matches_sink": counters.get("utterances") == len(tail.utterances()),
        },
        "sink_bad_lines": tail.bad_lines,
        "player_stderr": player_stderr[-500:],
        "stderr_tail": result.stderr[-1500:],
    }


def _progress(program: Program, tail: SinkTail, rss: TreeRss, began: float) -> None:
    played = time.time() - began
    due = sum(1 for t in program.truth if t["end"] < played - 3)
    got = len(tail.utterances())
    mb = rss.samples[-1][1] if rss.samples else float("nan")
    last = tail.utterances()[-1][1]["latency_ms"] if got else float("nan")
    log(
        f"soak: {played / 60:.1f} min played, {got} events ({due} sentences due), "
        f"RSS {mb:.0f} MB, last latency_ms {last:.0f}"
    )


def _runs(names: list[str]) -> str:
    """``["a", "b", "a", "b", "a (cut ...)"]`` -> ``a x2, b x2 alternating, then a (cut ...)``."""
    counts = Counter(n for n in names if "(cut" not in n)
    parts = [", ".join(f"{n} x{c}" for n, c in counts.items())] if counts else []
    if len(counts) > 1:
        parts[0] += " alternating"
    parts += [n for n in names if "(cut" in n]
    return ", then ".join(parts)


def _span(seconds: float) -> str:
    return f"{seconds / 60:.0f} min" if seconds >= 60 else f"{seconds:.0f} s"


# -- the README --------------------------------------------------------------------------------
def _ms(stat: dict[str, Any]) -> str:
    if not stat or stat.get("p50") is None:
        return "n/a"
    return f"{stat['p50']:.0f} / {stat['p95']:.0f} ms"


def _signed(value: float | None, unit: str = " ms") -> str:
    return "n/a" if value is None else f"{value:+.0f}{unit}"


def markdown(results: dict[str, Any]) -> str:
    r = results["soak"]
    if "error" in r:
        return f"Run {results['date']}: failed: {r['error']}"
    ev, lat, rss, ex = r["events"], r["latency"], r["rss"], r["exit"]
    drift, slices = lat["drift"], lat["slices"]
    c = r["counters"]
    notices = {k: v for k, v in r["statuses"].items() if k in ("overflow", "device-lost", "error")}
    info = results["machine"]
    minutes = r["program"]["audio_seconds"] / 60
    short = [] if minutes >= 50 else [f"**A short check ({minutes:.1f} min), not the hour.**  "]
    lines = [
        *short,
        f"Run {results['date']} on `{info['node']}`: {info['cpu']}, {info['cores']} cores, "
        f"Python {info['python']}; load average (1 min) before / after: "
        f"{results['load']['before'][0]:.2f} / {results['load']['after'][0]:.2f}"
        + (f" ({results['load_note']})" if results.get("load_note") else "")
        + ".  ",
        f"Command: `{results['invocation']}` ({results['duration_s'] / 60:.1f} min); raw "
        f"figures: `{results['file']}`.  ",
        f"Played: {r['program']['audio_seconds'] / 60:.1f} min, {ev['sentences_played']} "
        f"sentences ({r['program']['pieces']}; {r['program']['gap_s']:g} s of silence after "
        "each piece).",
        "",
        "| figure | result |",
        "| --- | --- |",
        f"| **sentences played / utterance events / one to one** | {ev['sentences_played']} / "
        f"{ev['utterance_events']} / {ev['one_to_one']} |",
        f"| **lost / split / merged / extra** | {ev['lost']} / {ev['split']} / "
        f"{ev['merged']} / {ev['extra']} |",
        f"| latency, true end played → line in the jsonl file, p50 / p95 | "
        f"{_ms(lat['latency_ms'])} |",
        f"| **latency drift, last {_span(lat['slice_s'])} − first, p50 / p95** | "
        f"{_signed(drift.get('latency_ms_p50'))} / {_signed(drift.get('latency_ms_p95'))} |",
        f"| the event's own latency_ms, p50 / p95 (drift p50 / p95) | "
        f"{_ms(lat['own_latency_ms'])} ({_signed(drift.get('own_latency_ms_p50'))} / "
        f"{_signed(drift.get('own_latency_ms_p95'))}) |",
        f"| Whisper's own time (timing.transcribe_ms), p50 / p95 | {_ms(lat['whisper_ms'])} |",
        f"| event end (stream clock) − true end (play clock), p50 / p95 (drift p50) | "
        f"{_ms(lat['vad_end_ms'])} ({_signed(drift.get('vad_end_ms_p50'))}) |",
        f"| **RSS growth**: median of the last {_span(rss['window_s'])} − the first "
        f"{_span(rss['window_s'])} after {_span(rss['warmup_s'])} of playing | "
        + (
            f"{_signed(rss['growth_mb'], ' MB')} ({rss['first_window_median_mb']:.0f} → "
            f"{rss['last_window_median_mb']:.0f} MB; slope "
            f"{rss['slope_mb_per_hour']:+.1f} MB/h) |"
            if rss.get("growth_mb") is not None
            else "n/a |"
        ),
        f"| peak RSS (kernel) / capture process's peak | {rss['peak_rss_mb']:.0f} MB / "
        f"{rss['capture_process_peak_mb'] or 0:.0f} MB |",
        f"| overflows / input_overflows / reconnects; overflow, device-lost, error statuses | "
        f"{c.get('overflows', 'n/a')} / {c.get('input_overflows', 'n/a')} / "
        f"{c.get('reconnects', 'n/a')}; {notices.get('overflow', 0)}, "
        f"{notices.get('device-lost', 0)}, {notices.get('error', 0)} |",
        f"| Ctrl-C at the end: `stopped` status / exit code / seconds to exit | "
        f"{'yes' if ex['stopped_after_interrupt'] else 'NO'} / {ex['code']} / "
        f"{r['timeline_s']['interrupt_to_exit']:.1f} s |",
        "",
        "| slice (played) | sentences | latency p50 / p95 | own latency_ms p50 / p95 |",
        "| --- | --- | --- | --- |",
    ]
    for s in slices:
        lines.append(
            f"| {_clock(s['from_s'])}-{_clock(s['to_s'])} | {s['sentences']} | "
            f"{_ms(s['latency_ms'])} | {_ms(s['own_latency_ms'])} |"
        )
    return "\n".join(lines)


def _clock(seconds: float) -> str:
    return f"{int(seconds // 60)}:{int(seconds % 60):02d}"


def update_readme(path: Path, results: dict[str, Any]) -> None:
    text = path.read_text(encoding="utf-8")
    if README_START not in text or README_END not in text:
        raise RuntimeError(f"{path} has no soak markers ({README_START} ... {README_END})")
    head, rest = text.split(README_START, 1)
    _, tail = rest.split(README_END, 1)
    path.write_text(
        f"{head}{README_START}\n{markdown(results)}\n{README_END}{tail}", encoding="utf-8"
    )


# -- the command line --------------------------------------------------------------------------
def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks soak",
        description="An hour of speech in real time through the virtual microphone.",
    )
    p.add_argument("--minutes", type=float, default=60.0, help="audio played (60)")
    p.add_argument("--gap", type=float, default=1.0, help="seconds of silence after each piece")
    p.add_argument("--rss-every", type=float, default=10.0, help="RSS sampling period, s (10)")
    p.add_argument("--warmup-minutes", type=float, default=5.0, help="before RSS growth counts")
    p.add_argument("--window-minutes", type=float, default=5.0, help="RSS median windows (5)")
    p.add_argument(
        "--slice-minutes",
        type=float,
        help="latency slices (10; a third of the run when it is under 20 min)",
    )
    p.add_argument(
        "--load-timeout", type=float, default=180.0, help="wait for the models to load, s (180)"
    )
    add_wait_quiet_option(p)
    p.add_argument("--drain", type=float, default=30.0, help="wait for the last event, s (30)")
    p.add_argument("--exit-timeout", type=float, default=120.0, help="after Ctrl-C, s (120)")
    p.add_argument("--log-every", type=float, default=300.0, help="progress lines, s (300)")
    p.add_argument(
        "-o", "--override", action="append", metavar="KEY=VALUE", help="more streamemo -o"
    )
    p.add_argument("--out", type=Path, help=f"folder for the JSON (default {RESULTS})")
    p.add_argument("--work", type=Path, help="keep the WAV, events and logs here (default: tmp)")
    p.add_argument("--update-readme", action="store_true", help="write the figures into it")
    p.add_argument("--render", type=Path, metavar="JSON", help="run nothing: show an earlier run")
    return p


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    opts = _parser().parse_args(argv)
    readme = BENCH / "README.md"
    if opts.render:
        return render_saved(opts.render, markdown, update_readme if opts.update_readme else None)
    started = time.monotonic()
    load_note = wait_quiet(opts.wait_quiet) if opts.wait_quiet else None
    info = machine()
    out_dir = opts.out or RESULTS
    out_dir.mkdir(parents=True, exist_ok=True)
    tag = f"{opts.minutes:g}min".replace(".", "_")
    path = out_dir / f"{date.today():%Y-%m-%d}-{machine_slug(info)}-soak-{tag}.json"
    results: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
        "machine": info,
        "invocation": " ".join(["python -m benchmarks soak", *argv]),
        "file": shown_path(path),
        "load": {"before": loadavg()},
        "load_note": load_note,
        "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(opts).items()},
    }
    code = 0
    with tempfile.TemporaryDirectory(prefix="streamemo-soak-") as tmp:
        work = opts.work or Path(tmp)
        try:
            results["soak"] = soak(opts, work)
        except MissingData as exc:
            results["soak"] = {"error": f"skipped: {exc}"}
            code = 3
        except Exception as exc:
            log(f"soak failed:\n{traceback.format_exc()}")
            results["soak"] = {"error": f"{type(exc).__name__}: {exc}"}
            code = 1
    results["load"]["after"] = loadavg()
    results["duration_s"] = time.monotonic() - started
    path.write_text(json.dumps(results, indent=1, default=str) + "\n", encoding="utf-8")
    print(markdown(results))
    if opts.update_readme and code == 0:
        update_readme(readme, results)
    log(f"wrote {path}")
    if code == 0 and not _clean(results["soak"]):
        code = 1  # ran, but something was lost or the exit was not clean
    return code


def _clean(r: dict[str, Any]) -> bool:
    ev, ex, c = r["events"], r["exit"], r["counters"]
    return (
        ev["lost"] == ev["split"] == ev["merged"] == ev["extra"] == 0
        and ex["code"] == 0
        and ex["stopped_after_interrupt"]
        and c.get("overflows", 0) == 0
    )
