"""How far a batch is: a rich progress bar on a terminal (files, hours of audio done,
speed as times real time, time left), one plain line per finished file when piped."""

from __future__ import annotations

import sys
import time
from typing import TextIO


def clock(seconds: float) -> str:
    seconds = round(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class Progress:
    def __init__(self, files: int, audio_s: float, stream: TextIO | None = None):
        self.files, self.audio_s = files, max(audio_s, 1e-9)
        self.stream = stream or sys.stderr
        self.done = self.failed = 0
        self.done_s = 0.0
        self.started = time.monotonic()
        self._bar = None
        if self.stream.isatty():
            from rich.console import Console
            from rich.progress import BarColumn, TextColumn, TimeRemainingColumn
            from rich.progress import Progress as Bar

            self._bar = Bar(
                TextColumn("batch"),
                BarColumn(),
                TextColumn("{task.fields[files]}"),
                TextColumn("{task.fields[speed]}"),
                TimeRemainingColumn(),
                console=Console(file=self.stream),
                transient=True,
            )
            self._task = self._bar.add_task("batch", total=self.audio_s, **self._fields())
            self._bar.start()

    def _speed(self) -> float:
        return self.done_s / max(time.monotonic() - self.started, 1e-9)

    def _fields(self) -> dict[str, str]:
        failed = f" ({self.failed} failed)" if self.failed else ""
        return {
            "files": f"{self.done + self.failed}/{self.files} files{failed}, "
            f"{clock(self.done_s)}/{clock(self.audio_s)} of audio",
            "speed": f"{self._speed():.1f}x real time",
        }

    def file_ended(self, audio_s: float, ok: bool) -> None:
        self.done += ok
        self.failed += not ok
        self.done_s += audio_s
        if self._bar is not None:
            self._bar.update(self._task, completed=self.done_s, **self._fields())
            return
        speed = self._speed()
        left = (self.audio_s - self.done_s) / speed if speed > 0 else 0.0
        fields = self._fields()
        print(
            f"streamemo: batch {fields['files']}, {fields['speed']}, {clock(max(left, 0.0))} left",
            file=self.stream,
            flush=True,
        )

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
