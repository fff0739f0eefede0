"""One worker's analysis: the models loaded once, then one Pipeline per file reusing
them (``Pipeline(analysers=...)``), its events kept as the jsonl sink writes them. The
same class runs in the local engine's processes and in the Ray engine's actors."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from streamemo.stages import Sink

EVENT_TYPES = frozenset({"utterance", "status"})  # what --sink jsonl:PATH writes by default


@dataclass(frozen=True)
class Setup:
    """What a worker needs to build the run's pipeline (picklable: it crosses processes)."""

    config: str | None = None
    overrides: tuple[str, ...] = ()
    plugins_dir: str | None = None
    threads: int | None = None  # for torch and CTranslate2; None: their own default
    env: dict[str, str] = field(default_factory=dict)


class _Keep(Sink):
    event_types = EVENT_TYPES

    def __init__(self) -> None:
        from streamemo.events import event_to_json

        self._json = event_to_json
        self.lines: list[str] = []
        self.utterances = 0

    def write(self, event) -> None:
        self.lines.append(self._json(event))
        self.utterances += event.type == "utterance"


class FileFailed(Exception):
    """A file's failure as one line (pickles whole: our errors' own fields need not)."""


def reason(exc: BaseException) -> str:
    """Our own errors say it all; others need their type."""
    from streamemo.errors import StreamemoError, one_line

    ours = isinstance(exc, StreamemoError | FileFailed)
    return str(exc).splitlines()[0] if ours else one_line(exc)


class Worker:
    def __init__(self, setup: Setup):
        os.environ.update(setup.env)
        if setup.threads:  # before torch and CTranslate2 start their pools
            os.environ["OMP_NUM_THREADS"] = str(setup.threads)
        from streamemo.config import load_config
        from streamemo.factory_options import fill_unset
        from streamemo.loading import Analysers
        from streamemo.plugins import Registry, get_plugin_manager

        if setup.threads:
            import torch

            torch.set_num_threads(setup.threads)
        self.pm = get_plugin_manager(setup.plugins_dir)
        self.config = load_config(setup.config, list(setup.overrides))
        self.config["source"] = {"name": "file"}
        registry = Registry.collect(self.pm)
        if setup.threads:  # CTranslate2 starts 4 whatever OMP_NUM_THREADS says: 2 workers
            # of 4 threads on 2 cores would take turns instead of working side by side
            fill_unset(self.config, registry, "transcriber", cpu_threads=setup.threads)
        self.analysers = Analysers.build(self.config, registry, checked=True)

    def pid(self) -> int:
        return os.getpid()

    def analyse(self, path: str) -> dict[str, Any]:
        """The file's events as JSON lines; an error names what went wrong (one line)."""
        import io

        from streamemo.pipeline import Pipeline

        keep = _Keep()
        errors = io.StringIO()
        try:
            pipeline = Pipeline(
                self.config,
                self.pm,
                sinks=[],
                source_options={"input": path},
                analysers=self.analysers,
                extra_sinks=[keep],
                stderr=errors,
            )
        except Exception as exc:  # the file's own check: missing, unreadable, not audio
            raise FileFailed(reason(exc)) from None
        try:
            pipeline.run()  # raises the stage's error that ended it
        except Exception as exc:
            raise FileFailed(reason(exc)) from None
        if pipeline.events_lost:
            raise FileFailed(f"{pipeline.events_lost} events lost: {errors.getvalue().strip()}")
        return {"lines": keep.lines, "utterances": keep.utterances}

    def analyse_bytes(self, name: str, data: bytes) -> dict[str, Any]:
        """The same for a file sent over (a cluster's nodes need not share a disk): written
        under its own name, which is the stream's name in the events."""
        import tempfile

        with tempfile.TemporaryDirectory(prefix="streamemo-batch-") as folder:
            path = Path(folder) / name
            path.write_bytes(data)
            try:
                return self.analyse(str(path))
            except FileFailed as exc:  # the driver's name for it, not this temporary one
                raise FileFailed(str(exc).replace(str(path), name)) from None
