"""Any file, any rate, any channel count -> 16 kHz mono int16."""

import numpy as np
import pytest
import soundfile

from streamemo.audio_io import read_all
from streamemo.default_plugins.file_source import FileSource
from streamemo.errors import InputError


def _tone(rate: int, seconds: float, channels: int, freq: float = 440.0) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    mono = 0.5 * np.sin(2 * np.pi * freq * t)
    return np.repeat(mono[:, None], channels, axis=1).astype(np.float32)


def _dominant(samples: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(samples.astype(np.float64) * np.hanning(len(samples))))
    return float(np.fft.rfftfreq(len(samples), 1 / 16000)[spectrum.argmax()])


@pytest.mark.parametrize(
    ("ext", "fmt", "rate", "channels"),
    [
        ("wav", "WAV", 48000, 2),
        ("wav", "WAV", 8000, 1),
        ("flac", "FLAC", 44100, 2),
        ("ogg", "OGG", 22050, 1),
        ("mp3", "MP3", 44100, 2),
    ],
)
def test_formats_rates_and_channels(tmp_path, ext, fmt, rate, channels):
    if fmt not in soundfile.available_formats():
        pytest.skip(f"this libsndfile cannot write {fmt}")
    path = tmp_path / f"tone.{ext}"
    soundfile.write(path, _tone(rate, 2.0, channels), rate, format=fmt)
    audio = read_all(path)
    assert audio.dtype == np.int16
    assert abs(len(audio) - 32000) < 0.02 * 32000 + 1200  # mp3 adds encoder padding
    assert abs(_dominant(audio[4000:28000]) - 440) < 3
    assert 0.3 < np.abs(audio[4000:28000]).max() / 32768 < 0.6


def test_unreadable_files_give_one_line(tmp_path):
    junk = tmp_path / "notes.wav"
    junk.write_text("this is not audio")
    with pytest.raises(InputError, match=r"cannot decode .*notes.wav.*use WAV, FLAC, OGG or MP3"):
        read_all(junk)
    with pytest.raises(InputError, match="not found: check the --input path"):
        FileSource(input=str(tmp_path / "missing.wav"))
