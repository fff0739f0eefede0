"""A voice-diary sink: each utterance becomes a line in a Markdown diary.

    streamemo --plugins-dir plugins run --input today.wav --sink markdown-diary:diary.md

Written exactly as a third party writes a plugin: one class, one hook.
"""

from datetime import datetime
from pathlib import Path

from streamemo.api import Sink, UtteranceEvent, hookimpl


class DiarySink(Sink):
    event_types = frozenset({"utterance"})  # no partials, no status lines

    def __init__(self, target: str = "diary.md"):
        self.path = Path(target)

    def write(self, event: UtteranceEvent) -> None:
        if not event.text:
            return
        mood = f"**{event.emotion.label}**" if event.emotion else ""
        with self.path.open("a", encoding="utf-8") as diary:
            diary.write(f"- {datetime.now():%Y-%m-%d %H:%M} {mood} {event.text}\n")


@hookimpl
def register_sinks(register):
    register("markdown-diary", DiarySink)
