"""The ``[pipeline]`` table: queue sizes, batching and the drain time, in one place."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from streamemo.errors import ConfigError
from streamemo.factory_options import call_factory

MAX_DRAIN_S = 86_400  # a day: "wait for ever" in practice, and a timeout threads accept


@dataclass(frozen=True)
class PipelineOptions:
    """The ``[pipeline]`` table: every key it takes, in one place."""

    frame_queue: int = 4000  # 30 ms blocks between the source and the segmenter
    utterance_queue: int = 32  # utterances waiting for Whisper
    partial_queue: int = 2  # partials waiting for the voice model (newest wins)
    batch_max: int = 16  # utterances analysed together when waiting at once (1: never)
    drain_s: float = 10.0  # how long the sinks may take to finish at the end
    # partials carry the words heard so far (Whisper on the utterance so far, each hop)
    live_words: bool = True
    # a live stream's utterance is heard while the hangover runs (a segmenter's Pause)
    speculate: bool = True

    def __post_init__(self) -> None:
        for name in ("frame_queue", "utterance_queue", "partial_queue", "batch_max"):
            if getattr(self, name) < 1:
                raise ConfigError(f"pipeline.{name} must be at least 1, not {getattr(self, name)}")
        for name in ("live_words", "speculate"):
            if not isinstance(getattr(self, name), bool):
                value = getattr(self, name)
                raise ConfigError(f"pipeline.{name} must be true or false, not {value!r}")
        if not 0 <= self.drain_s <= MAX_DRAIN_S:  # a thread's join takes no larger timeout
            raise ConfigError(
                f"pipeline.drain_s must be 0 to {MAX_DRAIN_S} seconds, not {self.drain_s}"
            )

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> PipelineOptions:
        return call_factory(cls, dict(config.get("pipeline") or {}), "[pipeline]")
