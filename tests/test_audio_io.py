"""Any file, any rate, any channel count -> 16 kHz mono int16."""

import subprocess
import sys

import numpy as np
import pytest
import soundfile

from streamemo.audio_io import read_all, to_int16
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


def _mp3(path, rate: int, channels: int, signal: str, **options) -> np.ndarray:
    if "MP3" not in soundfile.available_formats():
        pytest.skip("this libsndfile cannot write MP3")
    n = rate * 3
    if signal == "noise":
        mono = np.random.default_rng(0).normal(0, 0.2, n)
    else:
        mono = 0.5 * np.sin(2 * np.pi * 440 * np.arange(n) / rate)
    samples = np.repeat(mono[:, None], channels, axis=1).astype(np.float32)
    soundfile.write(path, samples, rate, format="MP3", **options)
    return samples


# libsndfile's own encoder (LAME) at 8 kHz (MPEG 2.5): FFmpeg decodes these without a
# word; libsndfile's libmpg123 printed "part2_3_length (608) too large for available
# bit count (472)" for each of them
NOISY_MP3S = [
    (1, "sine", "AVERAGE", 0.5),
    (1, "noise", "CONSTANT", 0.5),
    (2, "sine", "VARIABLE", 0.0),
    (2, "noise", "AVERAGE", 0.0),
]


@pytest.mark.parametrize(("channels", "signal", "mode", "level"), NOISY_MP3S)
def test_a_valid_8khz_mp3_prints_no_decoder_noise(tmp_path, channels, signal, mode, level):
    path = tmp_path / "low.mp3"
    _mp3(path, 8000, channels, signal, bitrate_mode=mode, compression_level=level)
    # a child process: the decoder writes to file descriptor 2, not to sys.stderr
    script = (
        "import sys\n"
        "from streamemo.default_plugins.file_source import FileSource\n"
        "blocks = list(FileSource(input=sys.argv[1]).blocks())\n"
        "print(sum(len(b.samples) for b in blocks))\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", script, str(path)], capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0, run.stderr
    assert run.stderr == ""
    assert abs(int(run.stdout) - 48000) < 480  # 3 s at 16 kHz: every sample decoded
    if signal == "sine":
        audio = read_all(path)
        assert abs(_dominant(audio[8000:40000]) - 440) < 3


def test_mp3_decodes_to_the_samples_libsndfile_gives(tmp_path):
    path = tmp_path / "speech-rate.mp3"
    _mp3(path, 16000, 2, "noise")  # 16 kHz: no resampling, so samples compare one to one
    theirs, _ = soundfile.read(path, dtype="float32", always_2d=True)
    theirs = to_int16(theirs.mean(axis=1, dtype=np.float32))
    ours = read_all(path)
    assert len(ours) == len(theirs)
    assert np.abs(ours.astype(np.int32) - theirs).max() <= 1


def test_a_file_named_mp3_that_is_not_one_gives_one_line(tmp_path):
    junk = tmp_path / "song.mp3"
    junk.write_text("this is not audio")
    with pytest.raises(InputError, match=r"cannot decode .*song.mp3.* \(Invalid data") as caught:
        read_all(junk)
    assert "\n" not in str(caught.value)
