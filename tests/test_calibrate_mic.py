"""``streamemo calibrate`` from a real PortAudio device: the virtual microphone of
../shared/tools/vmic.sh, in a folder of this module's own (other modules' may be in use)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import REPO, shared
from tests.test_calibrate import GAP, _wav, expected_baseline, neutral_clips, voice_scores
from tests.test_mic import VirtualMic


@pytest.fixture(scope="module")
def mic():
    virtual = VirtualMic(16000, "calibrate", venv=sys.prefix)  # this module's own daemon
    yield virtual
    virtual.stop()


def _start(mic: VirtualMic, home: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "streamemo", "calibrate", *args],
        cwd=REPO,
        env={**os.environ, **mic.client_env, "XDG_DATA_HOME": str(home)},
        stdout=(home / "out.txt").open("w"),  # files: nothing piles up in a pipe
        stderr=(home / "err.txt").open("w"),
    )


def _wait_for(path: Path, text: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while text not in path.read_text():
        assert proc.poll() is None, path.read_text()
        assert time.monotonic() < deadline, f"no {text!r} after {timeout} s: {path.read_text()}"
        time.sleep(0.05)


def test_a_baseline_from_the_microphone(mic, tmp_path):
    from streamemo.audio_io import read_all

    # three neutral sentences, 0.8 s apart (8.9 s), played into the microphone
    speech = np.concatenate([p for c in neutral_clips()[:3] for p in (read_all(c), GAP)])
    played = _wav(tmp_path / "played.wav", speech)
    # at the virtual device's own rate: no resampler between the file and the recording
    rate = ["-o", "source.samplerate=16000"]
    proc = _start(mic, tmp_path, "--seconds", "8", "--min-speech", "5", *rate)
    try:
        _wait_for(tmp_path / "err.txt", "recording 8 s from mic:", proc)
        mic.play(played)
        assert proc.wait(timeout=60) == 0, (tmp_path / "err.txt").read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    out = (tmp_path / "out.txt").read_text().splitlines()
    assert out[0].startswith("speech ") and " in 8.0 s " in out[0], out
    path = tmp_path / "streamemo" / "baseline.json"
    data = json.loads(path.read_text())
    assert data["source"].startswith("mic:") and data["recorded_s"] == 8.0
    assert data["speech_s"] >= 5.0
    # the same speech as a file: equal when the recording began as the speech did (it does
    # here, to the sample); a late start shifts the windows, by a fraction of a preset's spread
    mean, std, _ = expected_baseline(speech[: 8 * 16000])
    spread = np.load(shared("models/todai-audio-v1") / "baseline_std_male.npy")
    assert np.all(np.abs(np.array(data["mean"]) - mean) < 0.5 * spread), (data["mean"], mean)
    assert np.all(np.abs(np.array(data["std"]) - std) < 0.5 * spread), (data["std"], std)
    # and run uses it
    clip = shared("audio/en/utterances/en_00_joy.wav")
    assert voice_scores(tmp_path, clip, "-o", "audio.baseline=personal") != voice_scores(
        tmp_path, clip, "-o", "audio.baseline=male"
    )


def test_a_silent_microphone_is_one_line_and_writes_nothing(mic, tmp_path):
    proc = _start(mic, tmp_path, "--seconds", "3")
    assert proc.wait(timeout=60) == 2
    said, line = (tmp_path / "err.txt").read_text().splitlines()
    assert said.startswith("streamemo: recording 3 s from mic:")
    assert line.startswith("streamemo: error: no speech found in mic:") and "(3.0 s)" in line
    assert "is the right microphone chosen? --device" in line
    assert not (tmp_path / "streamemo").exists()


def test_ctrl_c_while_recording_writes_nothing(mic, tmp_path):
    proc = _start(mic, tmp_path, "--seconds", "30")
    try:
        _wait_for(tmp_path / "err.txt", "recording 30 s from mic:", proc)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 130
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    said = (tmp_path / "err.txt").read_text().splitlines()
    assert said[-1] == "streamemo: calibration cancelled: nothing written", said
    assert not (tmp_path / "streamemo").exists()
