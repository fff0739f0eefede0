"""The audio of a calibration: the microphone for ``seconds`` (the built-in ``mic``
source, as ``run`` captures), or a file (the ``file`` source: any format and rate that
``run --input`` reads), through the registry and the start-up checks ``run`` uses."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import numpy as np

from streamemo.cli_sources import choose_source
from streamemo.errors import PreflightError
from streamemo.frames import SAMPLE_RATE, Block, Notice
from streamemo.loading import build_stage
from streamemo.plugins import Registry
from streamemo.preflight import check_stage

MIC_SECONDS = 30.0


def open_source(config: dict[str, Any], registry: Registry, input: str | None, device: str | None):
    """The source ``run --input FILE --device D`` would read, checked, then built."""
    options = choose_source(config, registry, input=input, device=device)
    if problems := check_stage(config, registry, "source", options):
        raise PreflightError(problems)
    return build_stage(config, registry, "source", options)


def read(source: Any, seconds: float | None, say: Callable[[str], None] = print) -> np.ndarray:
    """16 kHz int16 samples: the first ``seconds`` of them (None: all a file has)."""
    limit = None if seconds is None else int(seconds * SAMPLE_RATE)
    parts: list[np.ndarray] = []
    have = 0
    blocks = source.blocks()
    try:
        for item in blocks:
            if isinstance(item, Notice):
                if item.state == "listening":
                    say(f"recording {seconds:g} s from {source.name}: speak in your usual, "
                        "calm voice (read something neutral aloud) until it stops")  # fmt: skip
                elif item.message:
                    say(f"{item.state}: {item.message}")
                continue
            if isinstance(item, Block):
                parts.append(item.samples)
                have += len(item.samples)
                if limit is not None and have >= limit:
                    break
    finally:
        blocks.close()  # a microphone's capture process ends here
        source.stop()
    samples = np.concatenate(parts) if parts else np.zeros(0, np.int16)
    return samples[:limit] if limit is not None else samples


def stderr(line: str) -> None:
    print(f"streamemo: {line}", file=sys.stderr, flush=True)
