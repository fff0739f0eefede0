"""Diaries for the plot and browser tests, written through the real store API: whole
utterance events (text, voice and fused emotion) as the diary sink keeps them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path

from streamemo.diary.store import Diary

LABELS = ("joy", "sadness", "anger", "fear", "surprise", "disgust", "neutral")
VOICE = {"joy": "HAPPY", "sadness": "SAD", "anger": "ANGRY", "fear": "FEAR",
         "surprise": "SURPRISE", "disgust": "DISGUST", "neutral": "NEUTRAL"}  # fmt: skip

# one utterance: (fused label, seconds spoken, text); the voice may hear another label
Said = tuple[str, float, str] | tuple[str, float, str, str]


def scores(top: str, score: float, labels: Sequence[str] = LABELS) -> dict[str, float]:
    rest = (1.0 - score) / (len(labels) - 1)
    return {label: (score if label == top else rest) for label in labels}


def utterance(uid: int, start: float, said: Said) -> dict:
    label, seconds, text = said[:3]
    voice = VOICE[said[3] if len(said) > 3 else label]  # type: ignore[misc]
    fused = scores(label, 0.7)
    return {
        "type": "utterance",
        "stream": "mic",
        "id": uid,
        "start": round(start, 3),
        "end": round(start + seconds, 3),
        "text": text,
        "language": "en",
        "text_emotion": {"scores": scores(label, 0.8), "sentences": [], "model": "text-test"},
        "audio_emotion": {
            "scores": scores(voice, 0.6, tuple(VOICE.values())),
            "windows": 3,
            "model": "voice-test",
        },
        "emotion": {"label": label, "score": 0.7, "scores": fused, "sources": ["text", "audio"]},
        "latency_ms": 120.0,
        "timing": {},
    }


def add_entry(diary: Diary, started: datetime, said: Iterable[Said]) -> int:
    """One finished dictation that started at ``started`` (local time)."""
    at = started.timestamp()
    entry = diary.begin_entry("mic", at)
    start = 0.5
    for uid, one in enumerate(said, 1):
        diary.add_utterance(entry, utterance(uid, start, one))
        start += one[1] + 0.8
    diary.finish_entry(entry, at + start)
    return entry


def write_diary(path: Path, days: dict[datetime, Iterable[Said]]) -> Path:
    with Diary(path) as diary:
        for started, said in days.items():
            add_entry(diary, started, said)
    return path
