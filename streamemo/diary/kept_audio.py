"""An entry's kept audio: FLAC (16 kHz mono int16) written as it is captured.

The file is its owner's only (0600) from its first byte. libsndfile writes the FLAC
header first with the length unknown and fills the length in on close; the frames in
between reach the file as they are encoded (4096 samples each). So a dictation killed
with ``kill -9`` keeps every frame written so far: all its audio but the last 0.26 s at
most, from sample 0 on (the utterances' times stay right). (A power cut is another
matter: nothing is fsynced while recording.) Such a file has no length in
its header: FFmpeg reads it, libsndfile stops with an error at its end. ``finish``
rewrites it whole (as ``diary reanalyse`` does before reading it). While it is being
written, its writer holds a lock on it (``flock``, gone with the process, even killed):
``in_use`` tells, so that a dictation still going on is not rewritten under its writer.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from streamemo.frames import SAMPLE_RATE

try:
    import fcntl
except ImportError:  # not POSIX: no lock, ``in_use`` is always False
    fcntl = None  # type: ignore[assignment]

_HEADER = 26  # "fLaC", the STREAMINFO block's header, and its fields up to the length


class KeptAudio:
    """A FLAC file being written block by block; ``close`` completes its header."""

    def __init__(self, path: Path):
        import soundfile

        self.path = path
        self.samples = 0
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        # unbuffered: each frame reaches the kernel as it is encoded (a Python buffer
        # would hold up to 8 KB of frames, 1.3 s of speech, that a kill -9 loses)
        self._raw = os.fdopen(fd, "wb", buffering=0)  # soundfile never closes a file it was handed
        try:
            os.fchmod(fd, 0o600)  # a file left from before may have had another mode
            _lock(fd, fcntl.LOCK_EX if fcntl else 0)
            self._file = soundfile.SoundFile(
                self._raw, "w", SAMPLE_RATE, 1, "PCM_16", format="FLAC"
            )
        except BaseException:
            self._raw.close()
            raise

    def write(self, samples: np.ndarray) -> None:
        self._file.write(samples)
        self.samples += len(samples)

    def close(self) -> None:
        try:
            if not self._file.closed:
                self._file.close()  # the header's length, written now
        finally:
            self._raw.close()  # and the lock let go


def in_use(path: Path) -> bool:
    """Whether a process is writing ``path`` now (a dictation with --keep-audio)."""
    if fcntl is None:
        return False
    fd = os.open(path, os.O_RDONLY)
    try:
        _lock(fd, fcntl.LOCK_SH)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # closing lets the lock go


def _lock(fd: int, how: int) -> None:
    if fcntl is not None and how:
        fcntl.flock(fd, how | fcntl.LOCK_NB)


def unfinished(path: Path) -> bool:
    """Whether a kept FLAC's header has no length (its writer was killed)."""
    with path.open("rb") as f:
        head = f.read(_HEADER)
    if len(head) < _HEADER or head[:4] != b"fLaC":
        return False  # not one of ours: let the decoder say what is wrong with it
    return int.from_bytes(head[18:26], "big") & (2**36 - 1) == 0


def finish(path: Path) -> int:
    """A kept FLAC whose writer was killed, rewritten with its header complete (the
    samples unchanged; a frame cut off by the kill is left out); its sample count."""
    import av

    part = path.with_name(f".{path.name}.part")
    kept = KeptAudio(part)
    try:
        with av.open(str(path)) as container:
            try:
                for frame in container.decode(audio=0):
                    kept.write(frame.to_ndarray().reshape(-1).astype(np.int16))
            except av.FFmpegError:
                pass  # the frame the kill cut short: everything before it is kept
        kept.close()
        os.replace(part, path)
    except BaseException:
        kept.close()
        part.unlink(missing_ok=True)
        raise
    return kept.samples
