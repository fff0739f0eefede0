"""Benchmark 1: audio-emotion throughput, streamemo against the seed's way.

The seed analyses one file at a time: ``librosa.load(path, sr=16000)``, 13 MFCCs with
librosa's defaults, the first 100 frames (zero-padded when shorter), the delta against the
male baseline, one unbatched forward pass. That procedure is re-implemented here (with
streamemo's ``TodaiNet`` and the seed's weights) and timed on the single utterances against
``VoiceEmotion.analyse``: the audio in memory (int16, as the pipeline hands it over), every
100-frame window of the utterance (hop 50) in one batched forward pass.

Also measured, to show where the time goes and what would help: the seed with the audio
already in memory, both with one torch thread, a stage-by-stage breakdown, and three
"what if" variants that are not streamemo code (yet): the MFCC with the mel filterbank built
once instead of per call, the same plus every window of every utterance in one batch, and an
MFCC on ``torch.stft``.
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

        from streamemo.voice_model import TodaiNet

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


# -- what-if MFCCs (not streamemo code): same numbers, less work ---------------------------------
class CachedMelMfcc:
    """librosa.feature.mfcc's exact steps, with the mel filterbank built once."""

    def __init__(self) -> None:
        import librosa

        self.basis = librosa.filters.mel(sr=SAMPLE_RATE, n_fft=2048)

    def __call__(self, samples: np.ndarray) -> np.ndarray:
        import librosa
        import scipy.fft

        power = np.abs(librosa.stft(samples)) ** 2
        mel = np.einsum("...ft,mf->...mt", power, self.basis, optimize=True)
        db = librosa.power_to_db(mel)
        return scipy.fft.dct(db, axis=-2, type=2, norm="ortho")[:N_MFCC].T


class TorchStftMfcc(CachedMelMfcc):
    """The same on torch.stft (float32 rounding differs slightly from numpy's FFT)."""

    def __init__(self) -> None:
        import librosa
        import torch

        super().__init__()
        window = librosa.filters.get_window("hann", 2048, fftbins=True)
        self.window = torch.from_numpy(window.astype(np.float32))
        self.torch_basis = torch.from_numpy(self.basis)

    def __call__(self, samples: np.ndarray) -> np.ndarray:
        import scipy.fft
        import torch

        spec = torch.stft(
            torch.from_numpy(samples),
            2048,
            512,
            window=self.window,
            center=True,
            pad_mode="constant",
            return_complex=True,
        )
        mel = self.torch_basis @ (spec.abs() ** 2)
        db = 10.0 * torch.log10(torch.clamp(mel, min=1e-10))
        db = torch.maximum(db, db.max() - 80.0).numpy()
        return scipy.fft.dct(db, axis=-2, type=2, norm="ortho")[:N_MFCC].T


@contextmanager
def threads(blas: int | None, torch_threads: int | None) -> Iterator[None]:
    """Limit numpy's BLAS pool and/or torch's intra-op pool for the duration."""
    import torch
    from threadpoolctl import threadpool_limits

    before = torch.get_num_threads()
    if torch_threads:
        torch.set_num_threads(torch_threads)
    try:
        if blas:
            with threadpool_limits(limits=blas, user_api="blas"):
                yield
        else:
            yield
    finally:
        torch.set_num_threads(before)


def _time(fn: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def _whatif_logits(voice: Any, audio: list[np.ndarray], mfcc: Callable, batch_all: bool) -> Any:
    """Every window of every utterance, as streamemo takes them, with another MFCC and
    optionally one forward pass for all utterances together."""
    import torch

    from streamemo.audio_io import to_float32
    from streamemo.voice_model import windows

    batches = [(windows(mfcc(to_float32(a)), voice.hop) - voice.mean) / voice.scale for a in audio]
    with torch.inference_mode():
        if batch_all:
            x = np.concatenate(batches).transpose(0, 2, 1)
            return [voice.net(torch.from_numpy(np.ascontiguousarray(x, np.float32))).numpy()]
        return [
            voice.net(
                torch.from_numpy(np.ascontiguousarray(b.transpose(0, 2, 1), np.float32))
            ).numpy()
            for b in batches
        ]


def run(settings: Settings) -> dict[str, Any]:
    import torch

    from streamemo.audio_io import read_all, to_float32
    from streamemo.default_plugins.voice_emotion import VoiceEmotion
    from streamemo.voice_model import WINDOW_FRAMES, mfcc, window_starts

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
    frames = [len(mfcc(to_float32(a))) for a in audio]
    covered = all(
        set(range(f)) <= {i for s in window_starts(f, voice.hop) for i in range(s, s + 100)}
        for f in frames
    )
    streamemo_windows = sum(voice.analyse(a).windows for a in audio)
    seed_frames = sum(min(f, WINDOW_FRAMES) for f in frames)

    passes: dict[str, Callable[[], Any]] = {
        "seed": lambda: [seed.analyse_file(f) for f in files],
        "seed_in_memory": lambda: [seed.analyse_samples(y) for y in floats],
        "streamemo": lambda: [voice.analyse(a) for a in audio],
    }
    cached, torch_mfcc = CachedMelMfcc(), TorchStftMfcc()
    whatifs: dict[str, Callable[[], Any]] = {
        "cached_mel": lambda: _whatif_logits(voice, audio, cached, batch_all=False),
        "cached_mel_one_batch": lambda: _whatif_logits(voice, audio, cached, batch_all=True),
        "torch_stft_one_batch": lambda: _whatif_logits(voice, audio, torch_mfcc, batch_all=True),
    }
    # thread settings: the process defaults, numpy's OpenBLAS on 1 thread (the what-ifs run
    # there too), torch on 1 thread
    configs = {"": (None, None), "_blas1": (1, None), "_torch1": (None, 1)}
    times: dict[str, list[float]] = {}
    default_threads = torch.get_num_threads()
    log(f"voice: {n} utterances ({seconds:.0f} s), {reps} reps x 3 thread settings")
    for suffix, (blas, torch_threads) in configs.items():
        names = list(passes) + (list(whatifs) if suffix == "_blas1" else [])
        with threads(blas, torch_threads):
            for name in names:
                (passes.get(name) or whatifs[name])()  # warm-up: numba kernels, first calls
            for rep in range(reps):
                shift = rep % len(names)  # rotate the order: drift hits every variant alike
                for name in names[shift:] + names[:shift]:
                    fn = passes.get(name) or whatifs[name]
                    times.setdefault(name + suffix, []).append(_time(fn)[0])
    breakdown = {
        "default threads": _breakdown(seed, voice, files, floats, audio, reps),
    }
    with threads(1, None):
        breakdown["OpenBLAS 1 thread"] = _breakdown(seed, voice, files, floats, audio, reps)

    # the what-ifs must give streamemo's numbers: their logits against streamemo's own
    reference = np.concatenate([voice.window_logits(a) for a in audio])
    deviation = {
        name: float(np.abs(np.concatenate(fn()) - reference).max()) for name, fn in whatifs.items()
    }

    result: dict[str, Any] = {
        "utterances": n,
        "audio_seconds": seconds,
        "torch_threads": default_threads,
        "blas_threads": _blas_threads(),
        "seed_windows": n,
        "streamemo_windows": streamemo_windows,
        "streamemo_covers_every_frame": covered,
        "frames_total": sum(frames),
        "frames_seen_by_seed": seed_frames,
        "whatif_max_logit_deviation": deviation,
        "breakdown_ms_per_utterance": breakdown,
        "passes": {},
    }
    for name, values in times.items():
        per_utt = summary([n / t for t in values])
        windows_done = n if name.startswith("seed") else streamemo_windows
        result["passes"][name] = {
            "seconds": summary(values),
            "utterances_per_s": per_utt,
            "windows_per_s": summary([windows_done / t for t in values]),
            "windows": windows_done,
        }

    def speedup(name: str, baseline: str) -> float:
        return float(np.median(times[baseline]) / np.median(times[name]))

    result["speedup"] = {  # against the seed as it is, under the same thread settings
        "streamemo": speedup("streamemo", "seed"),
        "streamemo_blas1": speedup("streamemo_blas1", "seed_blas1"),
        "streamemo_torch1": speedup("streamemo_torch1", "seed_torch1"),
        **{f"{w}_blas1": speedup(f"{w}_blas1", "seed_blas1") for w in whatifs},
    }
    result["speedup_vs_seed_in_memory"] = {
        "streamemo": speedup("streamemo", "seed_in_memory"),
        "streamemo_blas1": speedup("streamemo_blas1", "seed_in_memory_blas1"),
        "streamemo_torch1": speedup("streamemo_torch1", "seed_in_memory_torch1"),
        **{f"{w}_blas1": speedup(f"{w}_blas1", "seed_in_memory_blas1") for w in whatifs},
    }
    result["streamemo_blas1_vs_streamemo"] = speedup("streamemo_blas1", "streamemo")
    return result


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
    """Median ms per utterance of each step, seed and streamemo."""
    import torch

    from streamemo.audio_io import to_float32
    from streamemo.voice_model import mfcc, windows

    steps: dict[str, dict[str, list[float]]] = {"seed": {}, "streamemo": {}}

    def add(side: str, step: str, seconds: float) -> None:
        steps[side].setdefault(step, []).append(seconds * 1000 / len(files))

    def seed_steps() -> None:
        add("seed", "librosa.load", _time(lambda: [seed.load(f) for f in files])[0])
        t, deltas = _time(lambda: [seed.features(y) for y in floats])
        add("seed", "mfcc + first window + delta", t)
        add("seed", "forward (1 window)", _time(lambda: [seed.forward(d) for d in deltas])[0])

    def streamemo_steps() -> None:
        t, feats = _time(lambda: [mfcc(to_float32(a)) for a in audio])
        add("streamemo", "int16->float + mfcc", t)

        def delta() -> list[np.ndarray]:
            return [
                np.ascontiguousarray(
                    ((windows(m, voice.hop) - voice.mean) / voice.scale).transpose(0, 2, 1),
                    np.float32,
                )
                for m in feats
            ]

        t, batches = _time(delta)
        add("streamemo", "windows + delta", t)

        def forward() -> None:
            with torch.inference_mode():
                for b in batches:
                    voice.net(torch.from_numpy(b))

        add("streamemo", "forward (all windows, batched)", _time(forward)[0])

    for _ in range(max(reps, 2)):
        seed_steps()
        streamemo_steps()
    return {
        side: {step: float(np.median(v)) for step, v in parts.items()}
        for side, parts in steps.items()
    }
