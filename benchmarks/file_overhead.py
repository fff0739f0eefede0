"""Benchmark 2: ``streamemo run`` in file mode against faster-whisper alone.

streamemo: the offline config on en_long.wav, everything on (webrtcvad, Whisper per
utterance, text and voice emotion, fusion, a jsonl sink). faster-whisper alone: the same
file, its own VAD (``vad_filter=True``), long-form. Same model folder, int8, the same
``cpu_threads`` for both (``-o transcriber.cpu_threads=N`` / ``cpu_threads=N``), same beam
size, language and temperature 0. Each is a fresh process per repetition; model loading
(spawn -> ready, imports included) is measured apart from processing (ready -> done).
"""

from __future__ import annotations

import json
import re
from typing import Any

import numpy as np

from benchmarks import runs
from benchmarks.common import (
    Clip,
    Settings,
    bench_env,
    excerpt,
    log,
    long_clip,
    python,
    run_child,
    summary,
)


def word_error_rate(references: list[str], hypothesis: str) -> float | None:
    try:
        import jiwer
    except ImportError:
        return None

    def normalise(text: str) -> str:
        return " ".join(re.sub(r"[^a-z' ]", " ", text.lower()).split())

    return float(jiwer.wer(normalise(" ".join(references)), normalise(hypothesis)))


def whisper_model_folder(settings: Settings) -> str:
    from streamemo.default_plugins.whisper import whisper_model_dir

    return whisper_model_dir(runs.config_value(settings, "transcriber", "model"))


def clip_for(settings: Settings) -> Clip:
    clip = long_clip()
    if settings.overhead_seconds:
        clip = excerpt(clip, settings.overhead_seconds, settings.work / "overhead.wav")
    return clip


def run_streamemo(settings: Settings, clip: Clip, name: str) -> dict[str, Any]:
    run = runs.run(settings, name, clip.path, timeout=clip.seconds * 5 + 300)
    utterances = [r["event"] for r in run.events("utterance")]
    timing = {
        key: sum(u["timing"].get(key, 0.0) for u in utterances) / 1000
        for key in ("transcribe_ms", "text_ms", "audio_ms")
    }
    return {
        "load_s": run.load_s,
        "process_s": run.process_s,
        "total_s": run.total_s,
        "peak_rss_mb": run.child.peak_rss_mb,
        "model_loads_s": run.loads,
        "utterances": len(utterances),
        "stage_seconds": timing,  # sums over utterances; voice runs beside Whisper
        "encoder": {k: run.encoder[k] for k in ("calls", "seconds")},
        "wer": word_error_rate(
            [t["text"] for t in clip.truth], " ".join(u["text"] or "" for u in utterances)
        ),
    }


def run_whisper_alone(settings: Settings, clip: Clip, name: str, model: str) -> dict[str, Any]:
    cmd = [python(), "-m", "benchmarks.whisper_alone", "--model", model]
    cmd += ["--threads", str(settings.threads)]
    cmd += ["--beam-size", str(runs.config_value(settings, "transcriber", "beam_size"))]
    cmd += ["--language", runs.config_value(settings, "transcriber", "language") or ""]
    cmd.append(str(clip.path))
    child = run_child(
        name, cmd, settings.work / "logs", env=bench_env(), timeout=clip.seconds * 5 + 300
    )
    marks = json.loads(child.stdout.strip().splitlines()[-1])
    return {
        "load_s": marks["loaded"] - child.started,
        "process_s": marks["done"] - marks["loaded"],
        "total_s": child.wall_s,
        "peak_rss_mb": child.peak_rss_mb,
        "encoder": marks["encoder"],
        "speech_seconds_after_vad": marks["duration_after_vad"],
        "wer": word_error_rate([t["text"] for t in clip.truth], marks["text"]),
    }


def run(settings: Settings) -> dict[str, Any]:
    clip = clip_for(settings)
    model = whisper_model_folder(settings)
    log(f"file overhead: {clip.path.name} ({clip.seconds:.0f} s), {settings.reps} reps each")
    sides: dict[str, list[dict[str, Any]]] = {"streamemo": [], "whisper": []}
    for rep in range(settings.reps):
        order = ["streamemo", "whisper"] if rep % 2 == 0 else ["whisper", "streamemo"]
        for side in order:
            if side == "streamemo":
                sides[side].append(run_streamemo(settings, clip, f"overhead-streamemo-{rep}"))
            else:
                sides[side].append(
                    run_whisper_alone(settings, clip, f"overhead-whisper-{rep}", model)
                )
    result: dict[str, Any] = {
        "input": clip.path.name,
        "audio_seconds": clip.seconds,
        "cpu_threads": settings.threads,
        "whisper_model": model,
    }
    for side, reps in sides.items():
        result[side] = {
            key: summary([r[key] for r in reps])
            for key in ("load_s", "process_s", "total_s", "peak_rss_mb")
        }
        result[side]["encoder_calls"] = reps[-1]["encoder"]["calls"]
        result[side]["encoder_s"] = summary([r["encoder"]["seconds"] for r in reps])
        result[side]["wer"] = reps[-1]["wer"]
        result[side]["runs"] = reps
    for key in ("total_s", "process_s", "load_s"):
        result[f"ratio_{key.removesuffix('_s')}"] = float(
            np.median([s[key] for s in sides["streamemo"]])
            / np.median([w[key] for w in sides["whisper"]])
        )
    result["ratio_total_per_rep"] = summary(
        [
            s["total_s"] / w["total_s"]
            for s, w in zip(sides["streamemo"], sides["whisper"], strict=True)
        ]
    )
    return result
