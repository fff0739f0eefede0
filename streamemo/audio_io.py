"""Reading audio files as the pipeline's 16 kHz mono int16 stream."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from streamemo.errors import InputError
from streamemo.frames import SAMPLE_RATE

_FORMATS_HINT = "use WAV, FLAC, OGG or MP3, or convert it first (e.g. sox IN -r 16000 -c 1 OUT.wav)"


def to_int16(samples: np.ndarray) -> np.ndarray:
    """Float audio in [-1, 1] to int16, clipping rather than wrapping around."""
    return np.clip(np.round(samples * 32768.0), -32768, 32767).astype(np.int16)


def to_float32(samples: np.ndarray) -> np.ndarray:
    """int16 to float32 in [-1, 1), the way soundfile and librosa scale it."""
    return samples.astype(np.float32) / 32768.0


def read_blocks(path: str | Path, block_seconds: float = 0.5) -> Iterator[np.ndarray]:
    """Decode ``path`` block by block, downmix and resample to 16 kHz int16.

    Streaming (decoder + soxr's ResampleStream) keeps memory flat for hours of audio.
    """
    import soxr

    path = Path(path)
    if not path.is_file():
        raise InputError(f"input file {str(path)!r} not found: check the --input path")
    rate, chunks = (_mp3_chunks if _is_mp3(path) else _sndfile_chunks)(path, block_seconds)
    resampler = (
        None if rate == SAMPLE_RATE else soxr.ResampleStream(rate, SAMPLE_RATE, 1, "float32", "HQ")
    )
    for mono, last in chunks:
        if resampler is not None:
            mono = resampler.resample_chunk(mono, last=last)
        if len(mono):
            yield to_int16(mono)


def read_all(path: str | Path) -> np.ndarray:
    """The whole file as 16 kHz mono int16."""
    parts = list(read_blocks(path))
    return np.concatenate(parts) if parts else np.zeros(0, np.int16)


# Each decoder gives the file's rate and its (mono float32 chunk, is it the last) pairs.
Chunks = Iterator[tuple[np.ndarray, bool]]


def _cannot_decode(path: Path, exc: BaseException) -> InputError:
    # FFmpeg's errors carry an errno and the path: its strerror alone is the reason
    reason = getattr(exc, "strerror", None) or (str(exc).splitlines() or [type(exc).__name__])[0]
    return InputError(f"cannot decode {str(path)!r} ({reason}): {_FORMATS_HINT}")


def _sndfile_chunks(path: Path, block_seconds: float) -> tuple[int, Chunks]:
    import soundfile

    try:
        sound = soundfile.SoundFile(path)
    except Exception as exc:
        raise _cannot_decode(path, exc) from None

    def chunks() -> Chunks:
        with sound:
            frames = max(1, int(sound.samplerate * block_seconds))
            while True:
                chunk = sound.read(frames, dtype="float32", always_2d=True)
                last = len(chunk) < frames
                yield chunk.mean(axis=1, dtype=np.float32), last
                if last:
                    return

    return sound.samplerate, chunks()


def _is_mp3(path: Path) -> bool:
    """MP3 by name, ID3 tag or MPEG audio frame sync (layer bits set: not ADTS AAC)."""
    with path.open("rb") as f:
        head = f.read(3)
    sync = len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0 and head[1] & 0x06
    return path.suffix.lower() == ".mp3" or head == b"ID3" or bool(sync)


def _mp3_chunks(path: Path, block_seconds: float) -> tuple[int, Chunks]:
    """MP3 through FFmpeg (PyAV, which faster-whisper needs anyway), not libsndfile.

    libsndfile's libmpg123 prints "part2_3_length ... too large for available bit
    count" to stderr on valid low-rate files (8 kHz, MPEG 2.5), and nothing can turn
    that off through libsndfile. FFmpeg decodes the same samples (to 2e-6) and PyAV
    keeps FFmpeg's log quiet unless asked.
    """
    import av

    try:
        container = av.open(str(path))
        stream = container.streams.audio[0]
    except (av.FFmpegError, IndexError, UnicodeDecodeError) as exc:
        raise _cannot_decode(path, exc) from None
    rate = stream.codec_context.sample_rate
    # planar float at the file's own rate: one row per channel, as soundfile scales it
    planar = av.AudioResampler(format="fltp", rate=rate)
    block = max(1, int(rate * block_seconds))

    def frames() -> Iterator[np.ndarray]:
        with container:
            try:
                for frame in container.decode(stream):
                    for out in planar.resample(frame):
                        yield out.to_ndarray()
                for out in planar.resample(None):
                    yield out.to_ndarray()
            except av.FFmpegError as exc:
                raise _cannot_decode(path, exc) from None

    def chunks() -> Chunks:
        held: list[np.ndarray] = []
        size = 0
        for planes in frames():
            held.append(planes.mean(axis=0, dtype=np.float32))
            size += planes.shape[1]
            if size >= block:
                yield np.concatenate(held), False
                held, size = [], 0
        yield (np.concatenate(held) if held else np.zeros(0, np.float32)), True

    return rate, chunks()
