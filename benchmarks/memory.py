"""Benchmark 4: memory. RSS over a long real-time run, and peak RSS.

en_long.wav looped to ``--memory-minutes`` (10 by default, cut in a pause) and played with
``--realtime``, RSS read from /proc/PID/status every ``rss_every_s``. Growth compares the
last third of the run after the warm-up (``memory_warmup_s`` of stream time: every code path
has run by then) with the first third (see ``growth``), with the least-squares slope. The
peak is the kernel's own (wait4's ru_maxrss). The same run gives the paced-file latency
figures of benchmark 3.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from benchmarks import latency
from benchmarks.common import Settings, excerpt, log, long_clip


def growth(samples: list[tuple[float, float]], warmup_s: float, end_s: float) -> dict[str, Any]:
    """RSS growth after warm-up from (stream second, MB) samples taken until ``end_s``.

    RSS after warm-up is not one level: it steps between a few (glibc handing Whisper's
    per-utterance buffers back and taking them again, about 18 MB apart) with short spikes.
    So growth compares the lower envelope (10th percentile: the resident baseline) of the
    last third after warm-up with that of the first third, next to the medians' difference
    and the least-squares slope over everything after warm-up."""
    t = np.array([s[0] for s in samples])
    mb = np.array([s[1] for s in samples])
    third = (end_s - warmup_s) / 3
    after = (t >= warmup_s) & (t <= end_s)
    early = after & (t < warmup_s + third)
    late = after & (t >= end_s - third)
    if early.sum() < 3 or late.sum() < 3:
        return {"growth_mb": None, "reason": "too few RSS samples after the warm-up"}
    slope = np.polyfit(t[after], mb[after], 1)[0] * 60
    return {
        "rss_after_warmup_mb": float(np.percentile(mb[early], 10)),
        "rss_end_mb": float(np.percentile(mb[late], 10)),
        "growth_mb": float(np.percentile(mb[late], 10) - np.percentile(mb[early], 10)),
        "growth_of_medians_mb": float(np.median(mb[late]) - np.median(mb[early])),
        "slope_mb_per_min": float(slope),
        "rss_range_after_warmup_mb": [float(mb[after].min()), float(mb[after].max())],
    }


def run(settings: Settings) -> dict[str, Any]:
    clip = excerpt(long_clip(), settings.memory_minutes * 60, settings.work / "memory.wav")
    log(
        f"memory: {clip.seconds / 60:.1f} min played with --realtime, RSS every "
        f"{settings.rss_every_s} s"
    )
    run = latency.run_file_realtime(
        settings, clip, "memory-realtime", rss_every_s=settings.rss_every_s
    )
    zero = run.stream_zero
    if zero is None:
        raise RuntimeError("memory run: the probe saw no audio blocks")
    # RSS samples on the stream clock (second 0 = first sample paced), until the stream ended
    to_stream = run.child.started - zero
    samples = [(t + to_stream, mb) for t, mb in run.child.rss]
    result: dict[str, Any] = {
        "input": f"{clip.path.name} (en_long.wav looped)",
        "audio_seconds": clip.seconds,
        "warmup_s": settings.memory_warmup_s,
        "peak_rss_mb": run.child.peak_rss_mb,
        "rss_at_startup_mb": next((mb for t, mb in samples if t >= run.startup - zero), None),
        **growth(samples, settings.memory_warmup_s, clip.seconds),
        # (stream second, MB), thinned to at most ~200 points for the JSON
        "rss_series": [
            (round(t, 1), round(mb, 1)) for t, mb in samples[:: max(1, len(samples) // 200)]
        ],
    }
    return {"memory": result, "latency_file": latency.analyse_file_realtime(run, clip, settings)}
