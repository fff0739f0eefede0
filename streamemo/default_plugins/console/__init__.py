"""The ``console`` sink: one readable line per event, coloured on a terminal."""

from __future__ import annotations

import os
import sys
from typing import Any, TextIO

from streamemo.api import (
    ConfigError,
    Event,
    LevelEvent,
    PartialEvent,
    Sink,
    StatusEvent,
    UtteranceEvent,
    hookimpl,
)
from streamemo.default_plugins.console.colours import ANSI, colour


def _top(name: str, scores: dict[str, float]) -> str:
    label = max(scores, key=scores.__getitem__)
    return f"{name} {label} {scores[label]:.2f}"


class ConsoleSink(Sink):
    """One line per event; on a terminal, a live view (``live = auto``) instead."""

    def __init__(
        self,
        target: str | None = None,
        color: str = "auto",
        partials: bool = False,
        live: str | bool = "auto",
        stream: TextIO | None = None,
    ):
        self.preflight(color=color, live=live)
        self.out = stream or sys.stdout
        is_tty = hasattr(self.out, "isatty") and self.out.isatty()
        self.color = color == "always" or (
            color == "auto" and is_tty and "NO_COLOR" not in os.environ
        )
        self.view = None
        if live is True or (live == "auto" and is_tty):
            from streamemo.default_plugins.console.live_view import LiveView

            self.view = LiveView(self.out)
            self.event_types = None  # the live view shows levels and partials too
        else:
            self.event_types = None if partials else frozenset({"utterance", "status"})

    @staticmethod
    def preflight(*, color: str, live: str | bool, **_options: Any) -> None:
        """The choices, checked before anything loads (and again when the sink is made)."""
        if color not in ("auto", "always", "never"):
            raise ConfigError(f"sink.console.color must be auto, always or never, not {color!r}")
        if live not in ("auto", True, False):
            raise ConfigError(f"sink.console.live must be auto, true or false, not {live!r}")

    def _paint(self, text: str, label: str | None = None, code: int | None = None) -> str:
        if code is None and label is not None:
            code = ANSI.get(colour(label) or "")
        return f"\033[{code}m{text}\033[0m" if self.color and code else text

    def format(self, event: Event) -> str:
        if isinstance(event, UtteranceEvent):
            times = f"[{event.start:7.2f} → {event.end:7.2f}]"
            if event.emotion is not None:
                fused = self._paint(
                    f"{event.emotion.label} {event.emotion.score:.2f}", event.emotion.label
                )
            else:
                fused = "-"
            parts = [times, fused]
            if event.text_emotion is not None:
                parts.append(_top("text", event.text_emotion.scores))
            if event.audio_emotion is not None:
                parts.append(_top("voice", event.audio_emotion.scores))
            parts.append(f'"{event.text}"' if event.text else "(no words)")
            return "  ".join(parts)
        if isinstance(event, PartialEvent):
            voice = _top("voice", event.audio_emotion.scores) if event.audio_emotion else ""
            return self._paint(
                f"[{event.start:7.2f} … {event.end:7.2f}]  speaking  {voice}", code=2
            )
        assert isinstance(event, StatusEvent)
        counters = " ".join(f"{k}={v}" for k, v in event.counters.items())
        text = " ".join(
            p for p in (f"# {event.stream}: {event.state}", event.message, counters) if p
        )
        return self._paint(text, code=31 if event.state == "error" else 2)

    def write(self, event: Event) -> None:
        if self.view is not None:
            self.view.update(event)
            return
        if isinstance(event, LevelEvent):
            return  # ten a second: for live views, not for a log
        self.out.write(self.format(event) + "\n")
        self.out.flush()

    def close(self) -> None:
        if self.view is not None:
            self.view.close()
        self.out.flush()


@hookimpl
def register_sinks(register):
    register("console", ConsoleSink)
