"""Benchmark 1: audio-emotion throughput, streamemo against the seed's way.

The seed analyses one file at a time: ``librosa.load(path, sr=16000)``, 13 MFCCs with
librosa's defaults, the first 100 frames (zero-padded when shorter), the delta against the
male baseline, one unbatched forward pass. That procedure is re-implemented here (with
streamemo's ``TodaiNet`` and the seed's weights) and timed on the single utterances against
streamemo's analyser with the audio in memory (int16, as the segmenter hands it over) and
every 100-frame window of each utterance (hop 50):

- ``streamemo``: ``VoiceEmotion.analyse_many`` over all the utterances, as the pipeline does
  with utterances waiting together (file mode): one MFCC pass, one forward pass;
- ``streamemo_each``: ``VoiceEmotion.analyse`` one utterance at a time (live speech).

Each is timed under the process's default threads and with numpy's OpenBLAS on one thread
(what the pipeline sets; the seed's MFCC goes through numpy's BLAS, streamemo's does not).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import SAMPLE_RATE, Settings, log, shared_path, summary

N_MFCC = 13


def utterance_files(limit: int | None) -> list[Path]:
    folder = shared_path("audio/en/utterances")
    index = json.loads((folder / "index.json").read_text(encoding="utf-8"))
    files = [folder / item["file"] for item in index]
    return files[:limit] if limit else files


class SeedVoice:
    """The seed's per-file procedure, step by step (SEED.md), on streamemo's network."""

    def __init__(self, folder: Path):
        import torch

        from streamemo.default_plugins.voice_emotion.model import TodaiNet

        labels = json.loads((folder / "labels.json").read_text(encoding="utf-8"))
        self.net = TodaiNet(len(labels))
        self.net.load_state_dict(
            torch.load(folder / "pytorch_model.pth", map_location="cpu", weights_only=True)
        )
        self.net.eval()
        self.mean = np.load(folder / "baseline_mean_male.npy")
        self.std = np.load(folder / "baseline_std_male.npy")

    def load(self, path: Path) -> np.ndarray:
        import librosa

        samples, _ = librosa.load(path, sr=SAMPLE_RATE)
        return samples

    def features(self, samples: np.ndarray) -> np.ndarray:
        import librosa

        mfcc = librosa.feature.mfcc(y=samples, sr=SAMPLE_RATE, n_mfcc=N_MFCC).T  # (frames, 13)
        if len(mfcc) < 100:
            mfcc = np.pad(mfcc, ((0, 100 - len(mfcc)), (0, 0)))
        return (mfcc[:100] - self.mean) / (self.std + 1e-8)  # first window only, the delta

    def forward(self, delta: np.ndarray) -> np.ndarray:
        import torch

        x = torch.tensor(delta.T[None], dtype=torch.float32)  # (1, 13, 100)
        with torch.no_grad():
            return torch.softmax(self.net(x), dim=1)[0].numpy()

    def analyse_file(self, path: Path) -> np.ndarray:
        return self.forward(self.features(self.load(path)))

    def analyse_samples(self, samples: np.ndarray) -> np.ndarray:
        return self.forward(self.features(samples))


@contextmanager
def blas_threads(limit: int | None) -> Iterator[None]:
    """numpy's BLAS pool limited to ``limit`` threads for the duration (None: as it is)."""
    from threadpoolctl import threadpool_limits

    if limit:
        with threadpool_limits(limits=limit, user_api="blas"):
            yield
    else:
        yield


def _time(fn: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def run(settings: Settings) -> dict[str, Any]:
    import librosa

    from streamemo.audio_io import read_all, to_float32
    from streamemo.default_plugins.voice_emotion import VoiceEmotion
    from streamemo.default_plugins.voice_emotion.model import WINDOW_FRAMES, mfcc, window_starts

    reps = settings.reps if settings.quick else max(5, settings.reps)  # passes are short
    folder = shared_path("models/todai-audio-v1")
    files = utterance_files(settings.utterances)
    seed = SeedVoice(folder)
    voice = VoiceEmotion(model=str(folder), baseline="male", hop_frames=50)
    audio = [read_all(f) for f in files]  # int16, what the segmenter hands the analyser
    floats = [seed.load(f) for f in files]
    seconds = sum(len(a) for a in audio) / SAMPLE_RATE
    n = len(files)

    # every frame of every utterance is inside some window (the seed: the first 3.2 s only)
    frames = [len(mfcc(a)) for a in audio]
    covered = all(
        set(range(f)) <= {i for s in window_starts(f, voice.hop) for i in range(s, s + 100)}
        for f in frames
    )
    batched, each = voice.analyse_many(audio), [voice.analyse(a) for a in audio]
    streamemo_windows = sum(e.windows for e in batched)
    # the same numbers both ways, and the features the seed's weights were trained on
    checks = {
        "batched_vs_each_max_score_diff": max(
            abs(a.scores[k] - b.scores[k])
            for a, b in zip(batched, each, strict=True)
            for k in a.scores
        ),
        "mfcc_vs_librosa_max_rel_diff": max(
            float(
                np.abs(
                    mfcc(a)
                    - (
                        want := librosa.feature.mfcc(
                            y=to_float32(a), sr=SAMPLE_RATE, n_mfcc=N_MFCC
                        ).T
                    )
                ).max()
                / np.abs(want).max()
            )
            for a in audio
        ),
    }

    passes: dict[str, Callable[[], Any]] = {
        "seed": lambda: [seed.analyse_file(f) for f in files],
        "seed_in_memory": lambda: [seed.analyse_samples(y) for y in floats],
        "streamemo": lambda: voice.analyse_many(audio),
        "streamemo_each": lambda: [voice.analyse(a) for a in audio],
    }
    configs = {"": None, "_blas1": 1}  # the process defaults; numpy's OpenBLAS on 1 thread
    times: dict[str, list[float]] = {}
    log(f"voice: {n} utterances ({seconds:.0f} s), {reps} reps x {len(configs)} thread settings")
    for suffix, blas in configs.items():
        with blas_threads(blas):
            for fn in passes.values():
                fn()  # warm-up: numba kernels, first calls
            for rep in range(reps):
                names = list(passes)
                shift = rep % len(names)  # rotate the order: drift hits every way alike
                for name in names[shift:] + names[:shift]:
                    times.setdefault(name + suffix, []).append(_time(passes[name])[0])
    breakdown = {
        "default threads": _breakdown(seed, voice, files, floats, audio, reps),
    }
    with blas_threads(1):
        breakdown["OpenBLAS 1 thread"] = _breakdown(seed, voice, files, floats, audio, reps)

    result: dict[str, Any] = {
        "utterances": n,
        "audio_seconds": seconds,
        "torch_threads": _torch_threads(),
        "blas_threads": _blas_threads(),
        "seed_windows": n,
        "streamemo_windows": streamemo_windows,
        "streamemo_covers_every_frame": covered,
        "frames_total": sum(frames),
        "frames_seen_by_seed": sum(min(f, WINDOW_FRAMES) for f in frames),
        "checks": checks,
        "breakdown_ms_per_utterance": breakdown,
        "passes": {},
    }
    for name, values in times.items():
        windows_done = n if name.startswith("seed") else streamemo_windows
        result["passes"][name] = {
            "seconds": summary(values),
            "utterances_per_s": summary([n / t for t in values]),
            "windows_per_s": summary([windows_done / t for t in values]),
            "windows": windows_done,
        }

    def speedup(name: str, baseline: str) -> float:
        return float(np.median(times[baseline]) / np.median(times[name]))

    # against the seed as it is and with its audio in memory, under the same threads
    for key, baseline in (("speedup", "seed"), ("speedup_vs_seed_in_memory", "seed_in_memory")):
        result[key] = {
            f"{way}{suffix}": speedup(f"{way}{suffix}", f"{baseline}{suffix}")
            for way in ("streamemo", "streamemo_each")
            for suffix in configs
        }
    return result


def _torch_threads() -> int:
    import torch

    return torch.get_num_threads()


def _blas_threads() -> int | None:
    from threadpoolctl import threadpool_info

    pools = [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]
    return max(pools) if pools else None


def _breakdown(
    seed: SeedVoice,
    voice: Any,
    files: list[Path],
    floats: list[np.ndarray],
    audio: list[np.ndarray],
    reps: int,
) -> dict[str, dict[str, float]]:
    """Median ms per utterance of each step: the seed, and streamemo on all at once."""
    import torch

    from streamemo.default_plugins.voice_emotion.model import mfcc_many, windows

    steps: dict[str, dict[str, list[float]]] = {"seed": {}, "streamemo": {}}

    def add(side: str, step: str, seconds: float) -> None:
        steps[side].setdefault(step, []).append(seconds * 1000 / len(files))

    def seed_steps() -> None:
        add("seed", "librosa.load", _time(lambda: [seed.load(f) for f in files])[0])
        t, deltas = _time(lambda: [seed.features(y) for y in floats])
        add("seed", "mfcc + first window + delta", t)
        add("seed", "forward (1 window)", _time(lambda: [seed.forward(d) for d in deltas])[0])

    def streamemo_steps() -> None:
        t, feats = _time(lambda: mfcc_many(audio))
        add("streamemo", "mfcc (all utterances)", t)

        def delta() -> np.ndarray:
            batch = np.concatenate([windows(m, voice.hop) for m in feats])
            return np.ascontiguousarray(
                ((batch - voice.mean) / voice.scale).transpose(0, 2, 1), np.float32
            )

        t, batch = _time(delta)
        add("streamemo", "windows + delta", t)

        def forward() -> None:
            with torch.inference_mode():
                voice.net(torch.from_numpy(batch))

        add("streamemo", "forward (every window, one batch)", _time(forward)[0])

    for _ in range(max(reps, 2)):
        seed_steps()
        streamemo_steps()
    return {
        side: {step: float(np.median(v)) for step, v in parts.items()}
        for side, parts in steps.items()
    }
