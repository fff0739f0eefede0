"""Benchmark 5: scaling with work. File mode on 1, 2, 4 and 8 minutes of speech.

en_long.wav looped and cut (in a pause) to each length; a fresh ``streamemo run`` per size
and repetition. Linear means the processing time per audio minute stays flat: its ratio to
the smallest size's is reported (a buffer that grows with the stream would make it climb),
with the peak RSS per size (it should not grow with the length either).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from benchmarks import runs
from benchmarks.common import Settings, excerpt, log, long_clip, summary


def _rss_slope(run: runs.ProbeRun, audio_min: float) -> float:
    """RSS growth while processing, in MB per audio minute (least squares over the samples
    from the second tenth of the processing to its end: after the first utterances)."""
    begin = run.startup - run.child.started + run.process_s / 10
    end = run.shutdown - run.child.started
    points = [(t, mb) for t, mb in run.child.rss if begin <= t <= end]
    if len(points) < 3:
        return float("nan")
    t, mb = np.array(points).T
    per_second = np.polyfit(t, mb, 1)[0]
    return float(per_second * run.process_s / audio_min)


def run(settings: Settings) -> dict[str, Any]:
    source = long_clip()
    clips = {
        minutes: excerpt(source, minutes * 60, settings.work / f"scaling-{minutes:g}min.wav")
        for minutes in settings.scaling_minutes
    }
    log(
        "scaling: "
        + ", ".join(f"{c.seconds / 60:.2f} min" for c in clips.values())
        + f", {settings.scaling_reps} reps"
    )
    measured: dict[float, list[runs.ProbeRun]] = {m: [] for m in clips}
    for rep in range(settings.scaling_reps):
        order = list(clips) if rep % 2 == 0 else list(reversed(clips))
        for minutes in order:
            clip = clips[minutes]
            measured[minutes].append(
                runs.run(
                    settings,
                    f"scaling-{minutes:g}-{rep}",
                    clip.path,
                    rss_every_s=settings.rss_every_s,
                    timeout=clip.seconds * 5 + 300,
                )
            )
    sizes = []
    for minutes, reps in measured.items():
        audio_min = clips[minutes].seconds / 60
        sizes.append(
            {
                "minutes": minutes,
                "audio_minutes": audio_min,
                "utterances": len(reps[-1].events("utterance")),
                "load_s": summary([r.load_s for r in reps]),
                "process_s": summary([r.process_s for r in reps]),
                "total_s": summary([r.total_s for r in reps]),
                "process_s_per_audio_min": summary([r.process_s / audio_min for r in reps]),
                "peak_rss_mb": summary([r.child.peak_rss_mb for r in reps]),
                "rss_mb_per_audio_min": summary([_rss_slope(r, audio_min) for r in reps]),
            }
        )
    base = sizes[0]["process_s_per_audio_min"]["median"]
    for size in sizes:
        size["ratio_to_smallest"] = size["process_s_per_audio_min"]["median"] / base
    x = np.array([s["audio_minutes"] for s in sizes])
    y = np.array([s["process_s"]["median"] for s in sizes])
    fit = np.polyfit(x, y, 1) if len(x) >= 2 else [float("nan"), float("nan")]
    residual = y - np.polyval(fit, x)
    peaks = [s["peak_rss_mb"]["median"] for s in sizes]
    return {
        "sizes": sizes,
        "max_ratio": float(max(s["ratio_to_smallest"] for s in sizes)),
        "linear_fit": {
            "seconds_per_audio_min": float(fit[0]),
            "intercept_s": float(fit[1]),
            "max_residual_s": float(np.abs(residual).max()),
        },
        "peak_rss_growth_mb": float(peaks[-1] - peaks[0]),
    }
