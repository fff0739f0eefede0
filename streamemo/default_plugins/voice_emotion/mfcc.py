"""The seed's features, ``librosa.feature.mfcc(y, sr=16000, n_mfcc=13)`` with librosa's
defaults, computed fast and for many utterances at once.

The steps are librosa's: centred frames (zero padding), periodic Hann window, power
spectrum, Slaney mel filterbank, ``power_to_db`` (``top_db`` against each utterance's own
maximum), orthonormal DCT-II. The differences are in how: the tables are built once, all
utterances are framed from one joint signal, the FFT runs in float32 (librosa's runs in
float64) in cache-sized chunks, and the filterbank is applied band by band because each
filter covers only a few bins. The result matches librosa to float32 rounding (see
tests/test_voice.py); the seed's weights were trained on those numbers.

Each utterance of a batch goes through exactly the operations, on tensors of exactly the
shapes, that it meets alone, so ``mfcc_many`` gives every utterance bit for bit its own
``mfcc``: FFT and matrix kernels may round differently for different batch sizes (AVX-512
ones do), so chunks never mix utterances.

librosa itself is not imported: its import and numba warm-up cost about 2 s of load time.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from streamemo.api import SAMPLE_RATE

N_FFT = 2048
HOP = 512
N_MELS = 128
N_MFCC = 13
TOP_DB = 80.0
AMIN = 1e-10
CHUNK = 256  # frames per FFT call: its spectrum (2 MB) stays in the cache
BAND = 16  # mel filters per matrix product


# the Slaney (Auditory Toolbox) mel scale: linear to 1 kHz, then 27 mels per factor 6.4
MEL_HZ = 200.0 / 3  # Hz per mel below 1 kHz
KNEE = 1000.0 / MEL_HZ  # the mel of 1 kHz
LOG_STEP = np.log(6.4) / 27.0


def slaney_mel(hz: float) -> float:
    return hz / MEL_HZ if hz < 1000.0 else KNEE + np.log(hz / 1000.0) / LOG_STEP


def slaney_hz(mel: np.ndarray) -> np.ndarray:
    return np.where(mel < KNEE, mel * MEL_HZ, 1000.0 * np.exp(LOG_STEP * (mel - KNEE)))


def mel_filterbank() -> np.ndarray:
    """(128, 1025) triangular filters, equal-area ("slaney") normalised, as librosa's
    ``filters.mel(sr=16000, n_fft=2048)``."""
    bins = np.arange(N_FFT // 2 + 1) * (SAMPLE_RATE / N_FFT)  # centre frequency of each bin
    edges = slaney_hz(np.linspace(0.0, slaney_mel(SAMPLE_RATE / 2), N_MELS + 2))
    width = np.diff(edges)
    rising = (bins[None, :] - edges[:-2, None]) / width[:-1, None]
    falling = (edges[2:, None] - bins[None, :]) / width[1:, None]
    # rounded to float32 before the area normalisation, as librosa does: bit-identical table
    triangles = np.maximum(0.0, np.minimum(rising, falling)).astype(np.float32)
    return (triangles * (2.0 / (edges[2:] - edges[:-2]))[:, None]).astype(np.float32)


def dct_matrix() -> np.ndarray:
    """(13, 128) orthonormal DCT-II: row k is sqrt(2/N) cos(pi k (2n + 1) / 2N), row 0 / sqrt 2."""
    n = np.arange(N_MELS)
    rows = np.cos(np.pi * np.arange(N_MFCC)[:, None] * (2 * n + 1) / (2 * N_MELS))
    rows *= np.sqrt(2.0 / N_MELS)
    rows[0] /= np.sqrt(2.0)
    return rows.astype(np.float32)


@dataclass(frozen=True)
class Tables:
    window: torch.Tensor  # (2048,) periodic Hann
    bands: list[tuple[slice, slice, torch.Tensor]]  # filters, bins, (bins, filters) weights
    dct: torch.Tensor  # (128, 13)


@functools.cache
def tables() -> Tables:
    """Built once per process."""
    n = np.arange(N_FFT)
    window = (0.5 - 0.5 * np.cos(2 * np.pi * n / N_FFT)).astype(np.float32)
    basis = mel_filterbank()
    bands = []
    for first in range(0, N_MELS, BAND):
        filters = slice(first, first + BAND)
        used = np.flatnonzero(basis[filters].any(axis=0))  # the bins these filters touch
        lo, hi = (int(used[0]), int(used[-1]) + 1) if len(used) else (0, 1)
        weights = np.ascontiguousarray(basis[filters, lo:hi].T)
        bands.append((filters, slice(lo, hi), torch.from_numpy(weights)))
    return Tables(torch.from_numpy(window), bands, torch.from_numpy(dct_matrix().T.copy()))


def frame_count(samples: int) -> int:
    """MFCC frames of an utterance (centred frames: one more than whole hops)."""
    return 1 + samples // HOP


def framed_count(samples: int) -> int:
    """Frames computed for an utterance: ``frame_count`` and, when the samples end inside
    a hop, the one more that the framing of its own padded signal gives."""
    return 1 + -(-samples // HOP)


def _joint_signal(audios: Sequence[np.ndarray]) -> tuple[np.ndarray, list[int]]:
    """All utterances in one float32 signal, each starting on a hop boundary after 1024
    zeros (its centre padding, and the previous one's), so that one framing at hop 512
    gives every utterance's frames; returns the signal and each one's first frame. Between
    utterances lie 1-2 frames that belong to none."""
    starts, hops = [], 0
    for audio in audios:
        starts.append(hops)
        hops += 2 + -(-len(audio) // HOP)  # left padding (2 hops) and the samples, rounded up
    signal = np.zeros(hops * HOP + N_FFT // 2, np.float32)
    for audio, start in zip(audios, starts, strict=True):
        if audio.ndim != 1:
            raise ValueError(f"MFCC needs mono audio, got shape {audio.shape}")
        out = signal[start * HOP + N_FFT // 2 :][: len(audio)]
        if audio.dtype == np.int16:
            np.multiply(audio, np.float32(1 / 32768), out=out)  # exactly to_float32
        else:
            out[:] = audio
    return signal, starts


def mel_power(frames: torch.Tensor) -> torch.Tensor:
    """(n, 128) mel power of (n, 2048) frames, CHUNK frames at a time."""
    t = tables()
    mel = torch.empty(len(frames), N_MELS)
    buf = torch.empty(min(CHUNK, len(frames)), N_FFT)
    power = torch.empty(len(buf), N_FFT // 2 + 1)
    for i in range(0, len(frames), CHUNK):
        k = min(CHUNK, len(frames) - i)
        torch.mul(frames[i : i + k], t.window, out=buf[:k])  # framing copy and window in one
        parts = torch.view_as_real(torch.fft.rfft(buf[:k])).square_()
        torch.add(parts[..., 0], parts[..., 1], out=power[:k])  # re^2 + im^2: abs() is slower
        for filters, bins, weights in t.bands:
            mel[i : i + k, filters] = power[:k, bins] @ weights
    return mel


def mfcc_many(audios: Sequence[np.ndarray]) -> list[np.ndarray]:
    """(frames, 13) float32 MFCCs of each utterance: int16 samples (scaled as
    ``audio_io.to_float32``) or float samples in [-1, 1] (computed in float32)."""
    if not audios:
        return []
    signal, starts = _joint_signal(audios)
    frames = torch.from_numpy(signal).unfold(0, N_FFT, HOP)  # a view: no copy yet
    out = []
    for audio, start in zip(audios, starts, strict=True):
        # this utterance's frames alone, as many as its own signal gives: the same shapes
        # through the same kernels as a call for it alone, hence the same bits
        db = mel_power(frames[start : start + framed_count(len(audio))])
        own = db[: frame_count(len(audio))].clamp_(min=AMIN).log10_().mul_(10.0)
        own.clamp_(min=float(own.max()) - TOP_DB)  # power_to_db's floor, per utterance
        out.append((own @ tables().dct).numpy())
    return out


def mfcc(audio: np.ndarray) -> np.ndarray:
    """(frames, 13) MFCCs of one utterance, as ``librosa.feature.mfcc(...).T``."""
    return mfcc_many([audio])[0]
