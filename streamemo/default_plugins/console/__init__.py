"""The ``console`` sink: one readable line per event, coloured on a terminal.

A result under ``UNSURE_BELOW`` confidence is written ``unsure``, not as its label (the
label of a reading that cannot tell is noise); text and voice are joined by ``≠`` where
both are sure and name different emotions (``streamemo.api.disagree``)."""

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
    disagree,
    hookimpl,
    sure,
)
from streamemo.default_plugins.console.colours import ANSI, colour

UNSURE = "unsure"
DISAGREE = " ≠ "


def reading(result: Any) -> tuple[str, str | None]:
    """A result as the console writes it, and its label (None: unsure, or none)."""
    if not sure(result):
        return UNSURE, None
    label = result.label
    score = result.score if hasattr(result, "score") else result.scores[label]
    return f"{label} {score:.2f}", label


def _side(name: str, result: Any) -> str:
    return f"{name} {reading(result)[0]}"


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
            fused = "-"
            if event.emotion is not None:
                shown, label = reading(event.emotion)
                fused = self._paint(shown, label, None if label else 2)
            parts = [times, fused]
            sides = [
                _side(name, result)
                for name, result in (("text", event.text_emotion), ("voice", event.audio_emotion))
                if result is not None
            ]
            if disagree(event.text_emotion, event.audio_emotion):
                sides = [self._paint(DISAGREE.join(sides), code=1)]
            parts += sides
            parts.append(f'"{event.text}"' if event.text else "(no words)")
            return "  ".join(parts)
        if isinstance(event, PartialEvent):
            voice = _side("voice", event.audio_emotion) if event.audio_emotion else ""
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
