"""How pleasant an emotion is (its valence), so that a day can have a mood in [-1, 1].

Per emotion, whatever a model calls it (``streamemo.scores.canonical``: HAPPY, joy and
기쁨 are joy). A label of another kind counts as neutral (0): it moves neither way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from streamemo.scores import canonical

VALENCE: Mapping[str, float] = {
    "joy": 1.0,
    "surprise": 0.3,
    "neutral": 0.0,
    "sadness": -1.0,
    "anger": -1.0,
    "fear": -0.8,
    "disgust": -0.8,
}


def valence(label: str) -> float:
    return VALENCE.get(canonical(label), 0.0)


def mood(emotion: Mapping[str, Any] | None) -> float | None:
    """An utterance's mood: the valence of its fused emotion times that emotion's score
    (None without one). The top label only: most labels are unpleasant ones, so a
    mean over every score would read an unsure utterance as a sad one."""
    if not emotion or not emotion.get("label"):
        return None
    return round(valence(emotion["label"]) * float(emotion.get("score") or 0.0), 4)
