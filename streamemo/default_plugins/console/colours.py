"""The usual emotion names and their colours, for the plain console and its live view."""

from __future__ import annotations

COLOURS = {  # lower-case label -> colour name (rich's names, and ANSI below)
    "joy": "green", "happy": "green", "기쁨": "green",
    "sadness": "blue", "sad": "blue", "슬픔": "blue", "상처": "blue",
    "anger": "red", "angry": "red", "분노": "red",
    "fear": "magenta", "anxious": "magenta", "불안": "magenta",
    "surprise": "yellow", "당황": "yellow",
    "disgust": "cyan",
}  # fmt: skip
ANSI = {"red": 31, "green": 32, "yellow": 33, "blue": 34, "magenta": 35, "cyan": 36}


def colour(label: str) -> str | None:
    """The colour of an emotion label, or None for one not listed."""
    return COLOURS.get(label.lower())
