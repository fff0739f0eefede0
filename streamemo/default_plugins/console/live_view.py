"""The console's live view on a terminal: state, level meter, the voice right now,
the words heard so far (live words: the stable ones plain, the rest dim) and the last
utterances. Drawn with rich; plain lines are used when piped. As in the
plain lines, an unsure reading shows as ``unsure`` and ``≠`` marks a voice that is sure
of another emotion than the sure text."""

from __future__ import annotations

from collections import deque
from typing import Any, TextIO

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from streamemo.api import (
    AudioEmotion,
    Event,
    LevelEvent,
    PartialEvent,
    StatusEvent,
    UtteranceEvent,
    disagree,
    sure,
)
from streamemo.default_plugins.console import UNSURE, reading
from streamemo.default_plugins.console.colours import colour

METER_WIDTH = 30
FLOOR_DB = -60.0


def _style(label: str) -> str:
    return colour(label) or "white"


def _cell(result: Any) -> Text:
    """A result's table cell: its label and score, ``unsure``, or ``-`` for none."""
    if result is None:
        return Text("-")
    shown, label = reading(result)
    return Text(shown, style=_style(label) if label else "dim")


def _voice_cell(u: UtteranceEvent) -> Text:
    cell = _cell(u.audio_emotion)
    if disagree(u.text_emotion, u.audio_emotion):
        return Text("≠ ", style="bold yellow").append_text(cell)
    return cell


def _words_line(p: PartialEvent, width: int) -> Text:
    """The words so far: the stable ones plain, the ones that may still change dim, and
    their text emotion; a long sentence loses its oldest words, never its newest."""
    words = (p.text or "").split()
    head = Text("words now  ")
    emotion = Text("  ").append_text(_cell(p.text_emotion)) if p.text_emotion else Text("")
    if not words:
        return head.append("…", style="dim")
    first = 0
    while first < len(words) - 1 and (
        len(head) + 2 + len(" ".join(words[first:])) + len(emotion) > width
    ):
        first += 1
    line = head.copy()
    if first:
        line.append("… ", style="dim")
    stable = words[first : max(first, p.stable)]
    line.append(" ".join(stable))
    if p.stable < len(words):
        line.append(" " if stable else "").append(
            " ".join(words[max(first, p.stable) :]), style="dim"
        )
    line.append_text(emotion)
    line.no_wrap, line.overflow = True, "ellipsis"
    return line


class LiveView:
    def __init__(self, out: TextIO, rows: int = 8):
        self.console = Console(file=out, force_terminal=True)
        self.stream = ""
        self.state = "starting"
        self.speaking = False
        self.level_db = FLOOR_DB
        self.partial: AudioEmotion | None = None
        self.words: PartialEvent | None = None  # the newest partial with words
        self._done = 0  # the id of the newest utterance event: its partials are over
        self.utterances: deque[UtteranceEvent] = deque(maxlen=rows)
        self.counters: dict[str, int] = {}
        self.message = ""
        self._live = Live(self.render(), console=self.console, refresh_per_second=10)
        self._live.start()

    def update(self, event: Event) -> None:
        self.stream = event.stream
        if isinstance(event, LevelEvent):
            self.level_db, self.speaking = event.level_db, event.speaking
            if not self.speaking:
                self.partial = None
        elif isinstance(event, PartialEvent):
            if event.id > self._done:  # not one that came after its utterance
                self.partial = event.audio_emotion
                if event.text is not None:
                    self.words = event
        elif isinstance(event, UtteranceEvent):
            self.utterances.append(event)
            self.partial = None
            self.words = None
            self._done = max(self._done, event.id)
        elif isinstance(event, StatusEvent):
            self.state = event.state
            self.message = event.message or ""
            self.counters = {**self.counters, **event.counters}
        self._live.update(self.render())

    def render(self) -> Group:
        if self.state in ("stopped", "error"):
            state = Text(f"■ {self.state}", style="bold")
        elif self.speaking:
            state = Text("● speaking ", style="bold red")
        else:
            state = Text("○ listening", style="bold green")
        filled = int(METER_WIDTH * (max(self.level_db, FLOOR_DB) - FLOOR_DB) / -FLOOR_DB)
        meter = Text("level ").append("█" * filled, style="green" if filled < 24 else "yellow")
        meter.append("·" * (METER_WIDTH - filled), style="dim").append(f" {self.level_db:5.0f} dB")
        header = Text.assemble(state, "  ", meter, "  ", (self.stream, "dim"))
        overflow = self.counters.get("overflows", 0)
        if overflow:
            header.append(f"  overflows {overflow}", style="bold yellow")

        voice = Text("voice now  ")
        if self.partial is not None and not sure(self.partial):
            voice.append(UNSURE, style="dim")
        elif self.partial is not None:
            ranked = sorted(self.partial.scores.items(), key=lambda kv: -kv[1])[:3]
            for label, score in ranked:
                voice.append(f"{label} {score:.2f}  ", style=_style(label))
        else:
            voice.append("-", style="dim")

        table = Table(expand=True, show_edge=False, pad_edge=False)
        parts = [header, voice]
        if self.words is not None:
            parts.append(_words_line(self.words, self.console.size.width))
        for column, kwargs in (
            ("time", {"width": 15}),
            ("emotion", {"width": 14}),
            ("text", {"width": 14}),
            ("voice", {"width": 16}),  # "≠ SURPRISE 0.61"
            ("transcript", {"ratio": 1}),
        ):
            table.add_column(column, no_wrap=True, overflow="ellipsis", **kwargs)
        # the view must fit the screen, or the terminal scrolls instead of redrawing
        room = max(1, self.console.size.height - 5 - len(parts))
        for u in list(self.utterances)[-room:]:
            table.add_row(
                f"{u.start:6.1f}–{u.end:6.1f}s",
                _cell(u.emotion),
                _cell(u.text_emotion),
                _voice_cell(u),
                u.text or Text("(no words)", style="dim"),
            )
        footer = Text(self.message, style="dim") if self.message else Text("")
        return Group(*parts, table, footer)

    def close(self) -> None:
        self._live.update(self.render())
        self._live.stop()
