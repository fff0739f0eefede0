"""How pleasant an emotion is (its valence), so that a day can have a mood in [-1, 1].

The fused labels of the built-in setup, and the usual names other models give them.
A label not listed counts as neutral (0): it moves neither way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

VALENCE: Mapping[str, float] = {
    "joy": 1.0,
    "happy": 1.0,
    "happiness": 1.0,
    "love": 1.0,
    "surprise": 0.3,
    "neutral": 0.0,
    "calm": 0.3,
    "sadness": -1.0,
    "sad": -1.0,
    "anger": -1.0,
    "angry": -1.0,
    "fear": -0.8,
    "anxious": -0.8,
    "disgust": -0.8,
}


def valence(label: str) -> float:
    return VALENCE.get(label.lower(), 0.0)


def mood(emotion: Mapping[str, Any] | None) -> float | None:
    """An utterance's mood: the valence of its fused emotion times that emotion's score
    (None without one). The top label only: most labels are unpleasant ones, so a
    mean over every score would read an unsure utterance as a sad one."""
    if not emotion or not emotion.get("label"):
        return None
    return round(valence(emotion["label"]) * float(emotion.get("score") or 0.0), 4)
