"""Benchmark probe, loaded with ``streamemo --plugins-dir benchmarks/probe run ...``.

It only observes. Into the JSON-lines file named by $STREAMEMO_BENCH_PROBE it writes:
- ``startup`` / ``shutdown``: when audio starts to flow (Whisper is loaded; the text and voice
  models may still be loading) and when the last event has reached every sink;
- ``stream_zero``: the monotonic time of stream second 0, estimated from the source's blocks
  as min(arrival - samples so far / 16 kHz) (for a paced file this is when pacing started),
  and at the end how late blocks arrived against that (p50, p95, max in ms);
- each ``utterance`` and ``status`` event with the wall and monotonic time it left the pipeline;
- ``encoder``: how often Whisper's encoder ran and for how long (faster-whisper's
  ``WhisperModel.encode``, timed in place).
Without $STREAMEMO_BENCH_PROBE it does nothing.
"""

from __future__ import annotations

import json
import os
import threading
import time
from typing import Any

import streamemo
from streamemo.events import event_to_dict
from streamemo.frames import SAMPLE_RATE

_OUT = os.environ.get("STREAMEMO_BENCH_PROBE")
_lock = threading.Lock()
_file = None
_encoder = {"calls": 0, "seconds": 0.0}


def _record(kind: str, **fields: Any) -> None:
    global _file
    if not _OUT:
        return
    line = json.dumps({"kind": kind, "mono": time.monotonic(), "unix": time.time(), **fields})
    with _lock:
        if _file is None:
            _file = open(_OUT, "a", encoding="utf-8")  # closed at shutdown
        _file.write(line + "\n")
        _file.flush()


def _watch_blocks(source: Any) -> None:
    blocks = source.blocks
    lateness = [0] * 2001  # ms histogram of arrival - (zero + stream time): constant memory

    def timed_blocks():
        sent, zero = 0, None
        try:
            for item in blocks():
                samples = getattr(item, "samples", None)
                if samples is not None:
                    sent += len(samples)
                    estimate = item.arrived - sent / SAMPLE_RATE
                    if zero is None or estimate < zero - 0.001:
                        zero = estimate
                        _record("stream_zero", value=zero, samples=sent)
                    lateness[min(2000, round((estimate - zero) * 1000))] += 1
                yield item
        finally:
            _record("source_end", samples=sent, zero=zero, lateness=_percentiles(lateness))

    source.blocks = timed_blocks


def _percentiles(histogram: list[int]) -> dict[str, float]:
    """p50, p95 and max in ms of a 1-ms histogram."""
    total, seen, out = sum(histogram), 0, {}
    for ms, count in enumerate(histogram):
        seen += count
        for q in (50, 95):
            if f"p{q}" not in out and total and seen >= total * q / 100:
                out[f"p{q}"] = float(ms)
        if count:
            out["max"] = float(ms)
    return out


def _time_encoder() -> None:
    """Time faster-whisper's ``WhisperModel.encode`` in place (once Whisper is imported)."""
    import sys

    whisper = sys.modules.get("faster_whisper")
    model = getattr(whisper, "WhisperModel", None)
    encode = getattr(model, "encode", None)
    if encode is None or getattr(encode, "_probed", False):
        return

    def timed_encode(*args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return encode(*args, **kwargs)
        finally:
            _encoder["calls"] += 1
            _encoder["seconds"] += time.perf_counter() - t0

    timed_encode._probed = True  # type: ignore[attr-defined]
    model.encode = timed_encode


def _watch_sources() -> None:
    """Watch the blocks of every stream's source. The lifecycle hooks get only the public
    ``Run`` (no stages), so this instrument wraps the runner's source reader in place."""
    from streamemo.pipeline import Pipeline

    read = Pipeline._read_source

    def watched(self: Any) -> None:
        _watch_blocks(self.source)
        return read(self)

    Pipeline._read_source = watched


if _OUT:
    _watch_sources()


@streamemo.hookimpl
def streamemo_startup(run):
    if not _OUT:
        return
    _record("startup", pid=os.getpid())
    _time_encoder()  # Whisper is loaded by now


@streamemo.hookimpl
def streamemo_event(event):
    if _OUT and event.type in ("utterance", "status"):
        _record("event", event=event_to_dict(event))


@streamemo.hookimpl
def streamemo_shutdown(run):
    global _file
    if not _OUT:
        return
    _record("encoder", **_encoder)
    _record("shutdown")
    with _lock:
        if _file is not None:
            _file.close()
            _file = None
