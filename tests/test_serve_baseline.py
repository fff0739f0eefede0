"""A ``serve`` client names its stream's voice baseline in its hello: a real ``streamemo
serve`` process (voice only: no Whisper), real websocket clients, baselines stored by the
real ``streamemo calibrate``; the scores compared with ``run``'s."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import REPO, run_cli, shared
from tests.test_calibrate import VOICE_ONLY, voice_scores
from tests.ws_helpers import ServeProcess, close_of, send_audio


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    """A data folder with a personal baseline, one named "ann", and a broken "bad"."""
    home = tmp_path_factory.mktemp("serve-home")
    env = {"XDG_DATA_HOME": str(home)}
    speech = shared("audio/en/en_long.wav")  # 214 s of sentences: its start stands in
    for extra in (["--seconds", "30"], ["--seconds", "60", "--name", "ann"]):
        result = run_cli("calibrate", "--input", str(speech), *extra, env=env)
        assert result.returncode == 0, result.stderr
    (home / "streamemo" / "baselines" / "bad.json").write_text('{"mean": [0], "std": [1]}')
    return home


@pytest.fixture(scope="module")
def server(home):
    old = os.environ.get("XDG_DATA_HOME")
    os.environ["XDG_DATA_HOME"] = str(home)  # the server's own data folder
    try:
        server = ServeProcess(*[a for key in VOICE_ONLY[1::2] for a in ("-o", key)])
    finally:
        if old is None:
            del os.environ["XDG_DATA_HOME"]
        else:
            os.environ["XDG_DATA_HOME"] = old
    yield server
    server.stop()


@pytest.fixture(scope="module")
def clip() -> tuple[Path, np.ndarray]:
    from streamemo.audio_io import read_all

    path = shared("audio/en/en_diary.wav")
    return path, read_all(path)


def _scores(events: list[dict]) -> list[dict[str, float]]:
    return [e["audio_emotion"]["scores"] for e in events if e["type"] == "utterance"]


def test_two_streams_at_once_each_with_its_own_baseline(server, home, clip):
    path, samples = clip
    got: dict[str, tuple] = {}

    def stream(name: str, hello: dict) -> None:
        got[name] = send_audio(server.url("/audio"), samples, hello=hello, timeout=120)

    threads = [
        threading.Thread(target=stream, args=("female", {"name": "f", "baseline": "female"})),
        threading.Thread(target=stream, args=("default", {"name": "d"})),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(180)
    assert got["female"][1:] == (1000, "end of stream") == got["default"][1:]
    female, default = _scores(got["female"][0]), _scores(got["default"][0])
    assert len(female) == len(default) == 10
    assert female == voice_scores(home, path, "-o", "audio.baseline=female")
    assert default == voice_scores(home, path, "-o", "audio.baseline=male")
    assert female != default


@pytest.mark.parametrize("name", ["personal", "ann"])
def test_a_stored_baseline_by_name(server, home, clip, name):
    path, samples = clip
    events, code, _ = send_audio(server.url("/audio"), samples, hello={"baseline": name})
    assert code == 1000
    stored = home / "streamemo" / ("baseline.json" if name == "personal" else "baselines/ann.json")
    assert _scores(events) == voice_scores(home, path, "-o", f"audio.baseline={stored}")


@pytest.mark.parametrize(
    ("baseline", "reason"),
    [
        ("bob", "unknown baseline 'bob': male, female, personal or a name stored with "
         "streamemo calibrate --name"),
        ("../baseline", "baseline: male, female, personal or a stored baseline's name (no path)"),
        ("/etc/passwd", "baseline: male, female, personal or a stored baseline's name (no path)"),
        ("ann.json", "baseline: male, female, personal or a stored baseline's name (no path)"),
        (["male"], "baseline: male, female, personal or a stored baseline's name (no path)"),
        ("bad", "baseline 'bad' cannot be used (see the server's log)"),
    ],
)  # fmt: skip
def test_a_baseline_the_server_does_not_have_closes_the_connection(server, baseline, reason):
    hello = json.dumps({"type": "hello", "baseline": baseline})
    assert close_of(server.url("/audio"), hello) == (1007, reason)


def test_after_a_refused_baseline_the_server_still_serves(server, clip):
    close_of(server.url("/audio"), json.dumps({"type": "hello", "baseline": "bad"}))
    events, code, _ = send_audio(server.url("/audio"), clip[1][: 5 * 16000])
    assert code == 1000 and len(_scores(events)) == 1
    assert "baseline 'bad': " in server.stderr  # the reason, for the server's owner


def test_an_analyser_without_baselines_refuses_a_hello_that_names_one():
    """plugins/energy_emotion.py takes no baseline: a hello naming one is closed, and a
    stream without one is served by it."""
    server = ServeProcess(
        "-o", VOICE_ONLY[1], "-o", "audio.name=energy", plugins_dir=REPO / "plugins"
    )
    try:
        hello = json.dumps({"type": "hello", "baseline": "male"})
        reason = "baseline: the server's audio analyser 'energy' has none"
        assert close_of(server.url("/audio"), hello) == (1007, reason)
        samples = np.zeros(16000, np.int16)
        assert send_audio(server.url("/audio"), samples)[1] == 1000
    finally:
        server.stop()


def test_a_baseline_calibrated_again_is_used_by_the_next_stream(server, home, clip):
    import soundfile

    first = clip[1][: 10 * 16000]  # en_diary's first three utterances
    wav = home / "first-10s.wav"
    soundfile.write(wav, first, 16000, subtype="PCM_16")
    speech = str(shared("audio/en/en_long.wav"))
    stored = home / "streamemo" / "baselines" / "bo.json"
    got = []
    for seconds in ("30", "90"):
        args = ["--input", speech, "--seconds", seconds, "--name", "bo"]
        made = run_cli("calibrate", *args, env={"XDG_DATA_HOME": str(home)})
        assert made.returncode == 0, made.stderr
        events, code, _ = send_audio(server.url("/audio"), first, hello={"baseline": "bo"})
        assert code == 1000
        got.append(_scores(events))
        assert got[-1] == voice_scores(home, wav, "-o", f"audio.baseline={stored}")
    assert got[0] != got[1]
