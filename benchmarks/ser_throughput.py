"""Speech-emotion throughput: the seed's voice model against the ``transformers`` audio
analyser with a wav2vec2-base-sized checkpoint, on the same utterances, batched, on this CPU.

    python -m benchmarks ser                      # en_diary's 10: about 4 minutes on 2 cores
    python -m benchmarks ser --sets diary singles # ... and the 49 single utterances (long)
    python -m benchmarks ser --update-readme      # ... and write the table into the README
    python -m benchmarks ser --quick --out DIR    # a tiny checkpoint, 3 utterances (smoke)

No model hub is reachable here, so the transformers checkpoint is built from the
configuration of superb/wav2vec2-base-superb-er (wav2vec2-base: 7 convolutions, 12
transformer layers of width 768, a weighted layer sum, 4 labels; 95 M parameters) with
random weights, saved as safetensors and loaded through the analyser as a user's folder
is. Its speed is that model's (the same operations on tensors of the same shapes); its
scores mean nothing. Each analyser gets the utterances as the pipeline hands them over
(int16 in memory), ``batch`` utterances per ``analyse_many`` call; the clock runs over
every call of a pass, after one untimed warm-up call (the set's first utterance: first-call
set-up, not the work); median of ``--reps`` passes.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import (
    RESULTS,
    SAMPLE_RATE,
    loadavg,
    log,
    machine,
    machine_slug,
    publish,
    summary,
)
from benchmarks.ser_inputs import SETS, build_checkpoint, utterance_sets
from benchmarks.ser_report import markdown, update_readme


def measure(
    analyser: Any, module: Any, sets: dict[str, list[np.ndarray]], batches: list[int], reps: int
) -> dict[str, Any]:
    """Every set at every batch size: seconds per pass, windows, forward passes."""
    calls: list[int] = []
    module.register_forward_hook(lambda *_: calls.append(1))
    out: dict[str, Any] = {}
    for name, audios in sets.items():
        seconds = sum(len(a) for a in audios) / SAMPLE_RATE
        for batch in sorted({min(b, len(audios)) for b in batches}):
            groups = [audios[i : i + batch] for i in range(0, len(audios), batch)]

            def one_pass(groups: list[list[np.ndarray]] = groups) -> list[Any]:
                return [r for group in groups for r in analyser.analyse_many(group)]

            analyser.analyse_many(audios[:1])  # the untimed warm-up
            calls.clear()
            times, done = [], []
            for _ in range(reps):
                t0 = time.perf_counter()
                done = one_pass()
                times.append(time.perf_counter() - t0)
            forwards = len(calls) // reps
            windows = sum(r.windows for r in done)
            out[f"{name} | {batch}"] = {
                "set": name,
                "batch": batch,
                "utterances": len(audios),
                "audio_s": seconds,
                "windows": windows,
                "forward_passes": forwards,
                "seconds": summary(times),
                "windows_per_s": summary([windows / t for t in times]),
                "x_realtime": summary([seconds / t for t in times]),
            }
            log(f"ser: {name} batch {batch}: {np.median(times):.2f} s, {windows} windows")
    return out


def run(
    quick: bool, reps: int, batches: list[int], threads: int | None, names: list[str]
) -> dict[str, Any]:
    import torch

    from streamemo.default_plugins.transformers_audio import TransformersVoiceEmotion
    from streamemo.default_plugins.voice_emotion import BUNDLED, VoiceEmotion

    if threads:
        torch.set_num_threads(threads)
    sets = utterance_sets(quick, names)
    results: dict[str, Any] = {"torch_threads": torch.get_num_threads(), "sets": {}}
    for name, audios in sets.items():
        lengths = [len(a) / SAMPLE_RATE for a in audios]
        results["sets"][name] = {
            "utterances": len(audios),
            "audio_s": sum(lengths),
            "shortest_s": min(lengths),
            "longest_s": max(lengths),
        }
    seed = VoiceEmotion(model=BUNDLED)
    results["seed"] = measure(seed, seed.net, sets, batches, reps)
    with tempfile.TemporaryDirectory(prefix="streamemo-ser-") as tmp:
        t0 = time.perf_counter()
        results["checkpoint"] = build_checkpoint(Path(tmp), quick)
        results["checkpoint"]["build_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        analyser = TransformersVoiceEmotion(model=tmp, device="cpu")
        results["checkpoint"]["load_s"] = time.perf_counter() - t0
        results["transformers_options"] = {
            "window_s": analyser.window / SAMPLE_RATE,
            "hop_s": analyser.hop / SAMPLE_RATE,
            "max_batch": analyser.max_batch,
            "windows_of_any_length_in_one_pass": analyser.mixed,
        }
        results["transformers"] = measure(analyser, analyser.model, sets, batches, reps)
    results["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return results


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks ser", description=__doc__.split("\n")[0])
    p.add_argument("--reps", type=int, default=3, help="timed passes per setting (3)")
    p.add_argument("--batch", type=int, nargs="+", default=[1, 10], help="utterances per call")
    p.add_argument("--sets", nargs="+", choices=SETS, default=["diary"], help="utterances (diary)")
    p.add_argument("--threads", type=int, help="torch threads (default: torch's own)")
    p.add_argument("--quick", action="store_true", help="a tiny checkpoint, 3 utterances, 1 pass")
    p.add_argument("--out", type=Path, default=RESULTS, help=f"folder for the JSON ({RESULTS})")
    p.add_argument("--update-readme", action="store_true", help="write the table into the README")
    a = p.parse_args(argv)
    reps = 1 if a.quick else a.reps
    started, info = time.monotonic(), machine()
    command = " ".join(["python -m benchmarks ser", *(argv or [])])
    results: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
        "machine": info,
        "command": command,
        "reps": reps,
        "load_before": loadavg(),
    }
    results.update(run(a.quick, reps, a.batch, a.threads, a.sets))
    results["load_after"], results["duration_s"] = loadavg(), time.monotonic() - started
    name = f"{date.today():%Y-%m-%d}-{machine_slug(info)}-ser{'-quick' if a.quick else ''}.json"
    publish(results, a.out, name, markdown(results), update_readme if a.update_readme else None)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
