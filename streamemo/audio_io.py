"""Reading audio files as the pipeline's 16 kHz mono int16 stream."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from streamemo.errors import InputError
from streamemo.stages import SAMPLE_RATE


def to_int16(samples: np.ndarray) -> np.ndarray:
    """Float audio in [-1, 1] to int16, clipping rather than wrapping around."""
    return np.clip(np.round(samples * 32768.0), -32768, 32767).astype(np.int16)


def to_float32(samples: np.ndarray) -> np.ndarray:
    """int16 to float32 in [-1, 1), the way soundfile and librosa scale it."""
    return samples.astype(np.float32) / 32768.0


def read_blocks(path: str | Path, block_seconds: float = 0.5) -> Iterator[np.ndarray]:
    """Decode ``path`` block by block, downmix and resample to 16 kHz int16.

    Streaming (soundfile + soxr's ResampleStream) keeps memory flat for hours of audio.
    """
    import soundfile
    import soxr

    path = Path(path)
    if not path.is_file():
        raise InputError(f"input file {str(path)!r} not found: check the --input path")
    try:
        sound = soundfile.SoundFile(path)
    except Exception as exc:
        raise InputError(
            f"cannot decode {str(path)!r} ({str(exc).splitlines()[0]}): "
            "use WAV, FLAC, OGG or MP3, or convert it first (e.g. sox IN -r 16000 -c 1 OUT.wav)"
        ) from None
    with sound:
        rate = sound.samplerate
        resampler = (
            None
            if rate == SAMPLE_RATE
            else soxr.ResampleStream(rate, SAMPLE_RATE, 1, "float32", "HQ")
        )
        frames = max(1, int(rate * block_seconds))
        while True:
            chunk = sound.read(frames, dtype="float32", always_2d=True)
            last = len(chunk) < frames
            mono = chunk.mean(axis=1, dtype=np.float32)
            if resampler is not None:
                mono = resampler.resample_chunk(mono, last=last)
            if len(mono):
                yield to_int16(mono)
            if last:
                return


def read_all(path: str | Path) -> np.ndarray:
    """The whole file as 16 kHz mono int16."""
    parts = list(read_blocks(path))
    return np.concatenate(parts) if parts else np.zeros(0, np.int16)
