"""Benchmark 3: end-of-speech latency in real-time mode, a paced file and the virtual mic.

For every utterance: ``latency`` = the moment its event leaves the pipeline (the probe's
``streamemo_event`` hook, where ``latency_ms`` is stamped) minus the moment the true end of
speech (the ``.json`` truth next to the wav) entered the stream. Then

    overhead = latency - Whisper's own time (timing.transcribe_ms) - segmenter.hangover_ms

is what the pipeline adds: the VAD's end against the true end, the end decision (hangover
window), text emotion and fusion after Whisper, queues and thread hand-offs.

Clocks. Paced file: stream second 0 is when pacing started (the probe's ``stream_zero``),
and the file starts at stream second 0. Virtual microphone: stream second 0 is the
``stream_start`` of the ``listening`` status (Unix time); where the file starts in the
stream is found by aligning the live utterance starts with the starts the same segmenter
finds in the file itself (median difference). The play clock (``paplay`` started) is also
reported: the difference is the audio stack's delay (paplay, PulseAudio, PortAudio).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import runs
from benchmarks.common import (
    SAMPLE_RATE,
    Clip,
    MissingData,
    Settings,
    excerpt,
    log,
    long_clip,
    percentiles,
)
from benchmarks.vmic import VirtualMic


# -- matching events to the truth ---------------------------------------------------------------
def match(
    spans: list[tuple[float, float]], truth: list[dict[str, Any]], offset: float = 0.0
) -> dict[int, int]:
    """truth index -> span index. A span belongs to the overlapping true utterance whose end
    is nearest its own end; a true utterance keeps the span whose end is nearest its end."""
    best: dict[int, tuple[float, int]] = {}
    for k, (start, end) in enumerate(spans):
        overlapping = [
            i
            for i, t in enumerate(truth)
            if min(end, offset + t["end"]) - max(start, offset + t["start"]) > 0
        ]
        if not overlapping:
            continue
        i = min(overlapping, key=lambda i: abs(offset + truth[i]["end"] - end))
        gap = abs(offset + truth[i]["end"] - end)
        if i not in best or gap < best[i][0]:
            best[i] = (gap, k)
    return {i: k for i, (_, k) in best.items()}


def hangover_ms(settings: Settings) -> float:
    return float(runs.config_value(settings, "segmenter", "hangover_ms"))


def analyse(
    records: list[dict[str, Any]],
    truth: list[dict[str, Any]],
    *,
    zero: float,
    clock: str,
    hangover: float,
    offset: float = 0.0,
    capture_ms: float = 0.0,
) -> dict[str, Any]:
    """Latency figures of utterance event ``records`` (probe records) against ``truth``.
    ``zero``: stream second 0 on ``clock`` ("mono" or "unix"); ``offset``: the stream second
    at which the file's second 0 was heard; ``capture_ms``: how late audio typically reaches
    the pipeline after its stream time (audio stack buffering, pacing)."""
    events = [r["event"] for r in records]
    pairs = match([(e["start"], e["end"]) for e in events], truth, offset)
    cols: dict[str, list[float]] = {}
    for i, k in sorted(pairs.items()):
        event, record, true_end = events[k], records[k], offset + truth[i]["end"]
        row = {
            "latency_ms": (record[clock] - (zero + true_end)) * 1000,
            "whisper_ms": event["timing"].get("transcribe_ms", 0.0),
            "own_latency_ms": event["latency_ms"],
            "vad_end_ms": (event["end"] - true_end) * 1000,
            "text_ms": event["timing"].get("text_ms", 0.0),
        }
        row["overhead_ms"] = row["latency_ms"] - row["whisper_ms"] - hangover
        row["overhead_after_vad_ms"] = row["overhead_ms"] - row["vad_end_ms"]
        # what is left: the end decision against hangover_ms, queues, fusion, hand-offs
        row["rest_ms"] = row["overhead_after_vad_ms"] - row["text_ms"] - capture_ms
        for key, value in row.items():
            cols.setdefault(key, []).append(value)
    out: dict[str, Any] = {
        key: percentiles(cols.get(key, []))
        for key in (
            "latency_ms",
            "whisper_ms",
            "overhead_ms",
            "overhead_after_vad_ms",
            "own_latency_ms",
            "vad_end_ms",
            "text_ms",
            "rest_ms",
        )
    }
    out.update(
        utterances_true=len(truth),
        utterances_emitted=len(events),
        utterances_matched=len(pairs),
        hangover_ms=hangover,
        capture_ms=capture_ms,
    )
    return out


# -- the paced file ------------------------------------------------------------------------------
def run_file_realtime(
    settings: Settings, clip: Clip, name: str, rss_every_s: float | None = None
) -> runs.ProbeRun:
    return runs.run(
        settings,
        name,
        clip.path,
        realtime=True,
        rss_every_s=rss_every_s,
        timeout=clip.seconds * 2 + 300,
    )


def analyse_file_realtime(run: runs.ProbeRun, clip: Clip, settings: Settings) -> dict[str, Any]:
    zero = run.stream_zero
    if zero is None:
        raise RuntimeError(f"{run.child.name}: the probe saw no audio blocks")
    result = analyse(
        run.events("utterance"),
        clip.truth,
        zero=zero,
        clock="mono",
        hangover=hangover_ms(settings),
        capture_ms=run.lateness_ms.get("p50", 0.0),
    )
    result["block_lateness_ms"] = run.lateness_ms
    result.update(mode="file --realtime", input=clip.path.name, audio_seconds=clip.seconds)
    return result


# -- the virtual microphone ------------------------------------------------------------------------
def file_segments(clip: Clip, settings: Settings) -> list[tuple[float, float]]:
    """The utterances streamemo's segmenter finds in the file itself (file seconds)."""
    from streamemo.audio_io import read_all
    from streamemo.config import load_config
    from streamemo.default_plugins.vad_segmenter import VadSegmenter
    from streamemo.frames import Block, Utterance

    options = dict(load_config(str(runs.CONFIG), runs.overrides(settings))["segmenter"])
    options.pop("name", None)
    options.pop("enabled", None)
    segmenter = VadSegmenter(**options)
    audio = read_all(clip.path)
    found = []
    for i in range(0, len(audio), 480):
        found += [
            u for u in segmenter.feed(Block(audio[i : i + 480], 0.0)) if isinstance(u, Utterance)
        ]
    found += list(segmenter.flush())
    return [(u.start / SAMPLE_RATE, u.end / SAMPLE_RATE) for u in found]


def _wait_for(run_probe: Path, child: Any, predicate, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for record in runs.read_probe(run_probe):
            if predicate(record):
                return record
        if not child.alive():
            raise RuntimeError(f"{child.name} exited early:\n{child.wait().stderr[-1500:]}")
        time.sleep(0.1)
    raise RuntimeError(f"{child.name}: nothing matching after {timeout} s")


def _wait_for_last(probe: Path, child: Any, clip: Clip, timeout: float) -> None:
    """Until an utterance event ends near the last true utterance (or ``timeout``)."""
    deadline = time.monotonic() + timeout
    last = clip.truth[-1]["end"] - clip.truth[-1]["start"]
    while time.monotonic() < deadline and child.alive():
        records = [r for r in runs.read_probe(probe) if r["kind"] == "event"]
        utterances = [r["event"] for r in records if r["event"]["type"] == "utterance"]
        if (
            len(utterances) >= len(clip.truth)
            and abs(utterances[-1]["end"] - utterances[-1]["start"] - last) < 1.0
        ):
            return
        time.sleep(0.2)


def run_mic(settings: Settings) -> dict[str, Any]:
    clip = long_clip()
    if settings.vmic_seconds:
        clip = excerpt(clip, settings.vmic_seconds, settings.work / "vmic.wav")
    mic = VirtualMic()
    try:
        log(f"latency (virtual mic): playing {clip.path.name} ({clip.seconds:.0f} s)")
        child, probe = runs.start(settings, "latency-mic", env=mic.client_env)
        try:
            listening = _wait_for(
                probe,
                child,
                lambda r: r["kind"] == "event" and r["event"].get("state") == "listening",
                timeout=300,
            )
            time.sleep(1.0)  # a second of silence before speech, as a person would
            began = mic.play(clip.path)
            _wait_for_last(probe, child, clip, timeout=10 + 3 * hangover_ms(settings) / 1000)
        finally:
            child.interrupt()  # Ctrl-C: finishes what was heard, flushes, exits 0
        run = runs.finish(child, probe, timeout=120)
    finally:
        mic.stop()

    stream_start = listening["event"]["stream_start"]
    records = run.events("utterance")
    play_offset = began - stream_start
    # where the file starts in the stream: live starts against the file's own segment starts
    found = file_segments(clip, settings)
    live = match(
        [(r["event"]["start"], r["event"]["end"]) for r in records], clip.truth, play_offset
    )
    offline = match(found, clip.truth)
    shifts = [
        records[live[i]]["event"]["start"] - found[offline[i]][0] for i in live if i in offline
    ]
    offset = float(np.median(shifts)) if shifts else play_offset
    # the mic's stream clock (stream_start) against the arrival of the audio (monotonic)
    stream_start_mono = stream_start + listening["mono"] - listening["unix"]
    capture = (
        (run.stream_zero - stream_start_mono) * 1000 + run.lateness_ms.get("p50", 0.0)
        if run.stream_zero is not None
        else 0.0
    )
    common = {"zero": stream_start, "clock": "unix", "hangover": hangover_ms(settings)}
    result = analyse(records, clip.truth, offset=offset, capture_ms=capture, **common)
    by_play = analyse(records, clip.truth, offset=play_offset, capture_ms=capture, **common)
    result.update(
        mode="virtual microphone",
        input=clip.path.name,
        audio_seconds=clip.seconds,
        stream_offset_s=offset,
        audio_stack_delay_ms=(offset - play_offset) * 1000,
        alignment_spread_ms=float(np.ptp(shifts) * 1000) if shifts else None,
        latency_from_play_clock_ms=by_play["latency_ms"],
        overhead_from_play_clock_ms=by_play["overhead_ms"],
        block_lateness_ms=run.lateness_ms,
        source_counters=(run.status("stopped") or {}).get("event", {}).get("counters", {}),
    )
    return result


def run(settings: Settings, file_result: dict[str, Any] | None = None) -> dict[str, Any]:
    """Both modes. ``file_result``: the paced-file figures when the memory benchmark's long
    real-time run already produced them (it plays the same speech for ten minutes)."""
    if file_result is None:
        clip = long_clip()
        if settings.vmic_seconds:
            clip = excerpt(clip, settings.vmic_seconds, settings.work / "latency-file.wav")
        log(f"latency (file --realtime): {clip.path.name} ({clip.seconds:.0f} s)")
        file_result = analyse_file_realtime(
            run_file_realtime(settings, clip, "latency-file"), clip, settings
        )
    result: dict[str, Any] = {"file": file_result}
    try:
        result["mic"] = run_mic(settings)
    except MissingData as exc:
        result["mic"] = {"skipped": str(exc)}
    return result
