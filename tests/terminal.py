"""A real terminal for tests and README samples: one tmux session, its screen as text."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Callable


def have_tmux() -> bool:
    return shutil.which("tmux") is not None


class Terminal:
    """A detached tmux session of ``width`` x ``height`` running a login shell."""

    def __init__(self, session: str, width: int = 150, height: int = 30):
        self.session = session
        self.close()  # a session left over from an interrupted run
        self._tmux("new-session", "-d", "-s", session, "-x", str(width), "-y", str(height))
        self._tmux("resize-window", "-t", session, "-x", str(width), "-y", str(height))

    def _tmux(self, *args: str) -> str:
        return subprocess.run(["tmux", *args], capture_output=True, text=True, check=True).stdout

    def type(self, *keys: str) -> None:
        """Keys as tmux names them: text, "Enter", "C-c"."""
        self._tmux("send-keys", "-t", self.session, *keys)

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p", "-t", self.session)

    def wait_for(self, want: str | Callable[[str], bool], timeout: float) -> str:
        """The first screen that contains ``want`` (a string) or satisfies it (a function)."""
        check = want if callable(want) else lambda screen: want in screen
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if check(screen := self.screen()):
                return screen
            time.sleep(0.2)
        raise AssertionError(f"{want!r} never appeared on screen:\n{self.screen()}")

    def close(self) -> None:
        subprocess.run(["tmux", "kill-session", "-t", self.session], capture_output=True)
