"""Events: small typed dataclasses with a stable JSON form.

Field order is the JSON key order. Anything that was not computed (an
analysis switched off, no words heard) is ``None`` and appears as ``null``.

Every result (text, voice, fused) has a ``confidence`` in [0, 1], last so that the
older positional form ``AudioEmotion(scores, windows, model)`` still works: left out
(or NaN), it is computed from the scores when the result is made
(``streamemo.scores.confidence``); an analyser that knows better may give its own.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from streamemo.scores import own_or_computed

# Rounding keeps the JSON readable; 1e-6 on a probability is noise.
_PROB_DIGITS = 6
_TIME_DIGITS = 3


def _round_scores(scores: dict[str, float]) -> dict[str, float]:
    return {k: round(float(v), _PROB_DIGITS) for k, v in scores.items()}


@dataclass(slots=True)
class SentenceEmotion:
    text: str
    label: str
    score: float


@dataclass(slots=True)
class TextEmotion:
    scores: dict[str, float]  # label -> probability, sums to 1
    sentences: list[SentenceEmotion]
    model: str
    confidence: float = math.nan  # in [0, 1]; left out: from the scores

    def __post_init__(self) -> None:
        self.confidence = own_or_computed(self.confidence, self.scores)

    @property
    def label(self) -> str:
        return max(self.scores, key=self.scores.__getitem__)


@dataclass(slots=True)
class AudioEmotion:
    scores: dict[str, float]  # label -> probability, sums to 1
    windows: int  # how many 100-frame windows were analysed
    model: str
    confidence: float = math.nan  # in [0, 1]; left out: from the scores

    def __post_init__(self) -> None:
        self.confidence = own_or_computed(self.confidence, self.scores)

    @property
    def label(self) -> str:
        return max(self.scores, key=self.scores.__getitem__)


@dataclass(slots=True)
class Emotion:
    """The fused result."""

    label: str
    score: float
    scores: dict[str, float]
    sources: list[str]  # which analyses went in: "text", "audio"
    method: str
    confidence: float = math.nan  # in [0, 1]; left out: from the scores (a fuser may know better)

    def __post_init__(self) -> None:
        self.confidence = own_or_computed(self.confidence, self.scores)


@dataclass(slots=True)
class UtteranceEvent:
    stream: str
    id: int
    start: float  # seconds of audio from the stream start
    end: float
    text: str | None
    language: str | None
    text_emotion: TextEmotion | None
    audio_emotion: AudioEmotion | None
    emotion: Emotion | None
    latency_ms: float  # end of speech -> emission, wall clock
    timing: dict[str, float] = field(default_factory=dict)  # per-stage ms
    type: Literal["utterance"] = "utterance"


@dataclass(slots=True)
class PartialEvent:
    """Speech in progress: the voice's emotion in the newest window and, with live words
    on (``[pipeline] live_words``), the words heard so far and their text emotion.

    ``text`` is every word heard so far (None: live words off, or not transcribed);
    ``stable`` counts its first words that are settled: two successive hypotheses for
    this utterance agreed on them, and every later partial of the utterance starts with
    them unchanged (``text.split()[:stable]``). The words after them may still change.
    """

    stream: str
    id: int  # the id its utterance event will have
    start: float
    end: float
    audio_emotion: AudioEmotion | None
    text: str | None = None
    stable: int = 0  # how many of text's first words (split on whitespace) are settled
    text_emotion: TextEmotion | None = None
    type: Literal["partial"] = "partial"


@dataclass(slots=True)
class StatusEvent:
    """State changes, counters and errors that a user should see."""

    stream: str
    state: str  # "started", "listening", "speaking", "error", "stopped", ...
    message: str | None = None
    counters: dict[str, int] = field(default_factory=dict)
    stream_start: float | None = None  # Unix time of stream second 0, for live input
    type: Literal["status"] = "status"


@dataclass(slots=True)
class LevelEvent:
    """Input level and speaking state, ten times a second, for live views (live input only)."""

    stream: str
    time: float  # seconds of audio from the stream start
    level_db: float  # RMS in dB full scale
    speaking: bool
    type: Literal["level"] = "level"


Event = UtteranceEvent | PartialEvent | StatusEvent | LevelEvent

_KEY_ORDER = ("type", "stream", "id", "start", "end")


def event_to_dict(event: Event) -> dict[str, Any]:
    """The stable JSON form: ``type`` first, times rounded, nested objects as dicts."""
    raw = asdict(event)
    out = {k: raw.pop(k) for k in _KEY_ORDER if k in raw}
    out.update(raw)
    for key in ("start", "end", "time", "level_db", "latency_ms"):
        if isinstance(out.get(key), float):
            out[key] = round(out[key], _TIME_DIGITS)
    if "timing" in out:
        out["timing"] = {k: round(v, _TIME_DIGITS) for k, v in out["timing"].items()}
    for key in ("text_emotion", "audio_emotion", "emotion"):
        part = out.get(key)
        if part is not None:
            part["scores"] = _round_scores(part["scores"])
            for key in ("score", "confidence"):
                if key in part:
                    part[key] = round(part[key], _PROB_DIGITS)
            for sentence in part.get("sentences", ()):
                sentence["score"] = round(sentence["score"], _PROB_DIGITS)
    return _finite(out)


def _finite(value: Any) -> Any:
    """NaN and infinities as ``None``: JSON has no such numbers (``json.dumps`` would
    write ``NaN``, which no JSON parser, and so no dashboard, accepts)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def event_to_json(event: Event) -> str:
    """One line of strict JSON (never ``NaN`` or ``Infinity``)."""
    return json.dumps(event_to_dict(event), ensure_ascii=False, allow_nan=False)


def event_from_dict(data: dict[str, Any]) -> Event:
    """Rebuild an event from its JSON form (for consumers and tests)."""
    data = dict(data)
    kind = data.pop("type")
    if kind == "status":
        return StatusEvent(**data)
    if kind == "level":
        return LevelEvent(**data)
    if data.get("audio_emotion") is not None:
        data["audio_emotion"] = AudioEmotion(**data["audio_emotion"])
    if kind not in ("partial", "utterance"):
        raise ValueError(f"unknown event type {kind!r}")
    if data.get("text_emotion") is not None:
        te = dict(data["text_emotion"])
        te["sentences"] = [SentenceEmotion(**s) for s in te["sentences"]]
        data["text_emotion"] = TextEmotion(**te)
    if kind == "partial":
        return PartialEvent(**data)
    if data.get("emotion") is not None:
        data["emotion"] = Emotion(**data["emotion"])
    return UtteranceEvent(**data)
