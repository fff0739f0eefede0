"""What an engine is given and what it reports back (the driver does all the writing)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol


@dataclass
class Job:
    index: int
    path: Path
    attempts: int = 0


class Report(Protocol):
    def started(self, job: Job) -> None: ...
    def done(self, job: Job, result: dict[str, Any]) -> None: ...
    def failed(self, job: Job, message: str) -> None: ...


Engine = Callable[[list[Job], Report], None]
