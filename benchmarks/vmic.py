"""../shared/tools/vmic.sh, the virtual microphone, with a PulseAudio daemon of our own.

Each ``VirtualMic`` gets its own ``VMIC_DIR`` (``/tmp/streamemo-bench-vmic-NAME-PID``): other
tests and helpers run their own daemon under /tmp/vmic, and stopping ours must not stop
theirs. The venv vmic.sh wants (sounddevice for its device listing) is shared and kept, so
pip runs once per machine.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

from benchmarks.common import SAMPLE_RATE, MissingData, shared_path


class VirtualMic:
    """Start with the constructor, play WAVs into it in real time, ``stop()`` at the end."""

    def __init__(self, name: str = "latency") -> None:
        self.script = shared_path("tools/vmic.sh")
        self.env = {
            **os.environ,
            "VMIC_DIR": f"/tmp/streamemo-bench-vmic-{name}-{os.getpid()}",
            "VMIC_VENV": "/tmp/streamemo-bench-vmic-venv",  # kept: pip runs once
            "VMIC_RATE": str(SAMPLE_RATE),
        }
        started = self._run("start")
        if started.returncode != 0:
            raise MissingData(
                f"the virtual microphone did not start: {(started.stdout + started.stderr)[-400:]}"
            )
        exports = self._run("env").stdout
        # what a client (streamemo) needs in its environment to record the virtual mic
        self.client_env = dict(
            line.removeprefix("export ").split("=", 1)
            for line in exports.splitlines()
            if line.startswith("export ")
        )

    @property
    def directory(self) -> Path:
        return Path(self.env["VMIC_DIR"])

    def _run(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["bash", str(self.script), *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=600,
        )

    def play(self, wav: Path) -> float:
        """Play in real time (blocks); returns the Unix time just before paplay started."""
        began = time.time()
        subprocess.run(
            ["bash", str(self.script), "play", str(wav)], env=self.env, check=True, timeout=3600
        )
        return began

    def start_play(self, wav: Path) -> tuple[subprocess.Popen, float, float]:
        """Start playing without waiting: (the player, Unix time and monotonic time just
        before it was spawned). The caller waits for it (or kills it)."""
        began, began_mono = time.time(), time.monotonic()
        player = subprocess.Popen(
            ["bash", str(self.script), "play", str(wav)],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        return player, began, began_mono

    def stop(self) -> None:
        self._run("stop")
        shutil.rmtree(self.directory, ignore_errors=True)  # ours alone; the venv is kept apart
