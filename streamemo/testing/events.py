"""Synthetic events, as the engine emits them, for testing sinks and observers."""

from __future__ import annotations

from streamemo.events import (
    AudioEmotion,
    Emotion,
    Event,
    LevelEvent,
    PartialEvent,
    SentenceEmotion,
    StatusEvent,
    TextEmotion,
    UtteranceEvent,
)

LABELS = ("joy", "sadness", "anger", "fear", "surprise", "disgust", "neutral")


def scores(label: str, score: float = 0.8, labels: tuple[str, ...] = LABELS) -> dict[str, float]:
    """A distribution over ``labels`` with ``score`` on ``label``, the rest even."""
    names = list(dict.fromkeys((*labels, label)))
    rest = (1.0 - score) / (len(names) - 1) if len(names) > 1 else 0.0
    return {name: (score if name == label else rest) for name in names}


def make_text_emotion(text: str = "I am glad you came.", label: str = "joy", score: float = 0.8):
    return TextEmotion(scores(label, score), [SentenceEmotion(text, label, score)], "test-text")


def make_audio_emotion(label: str = "joy", score: float = 0.6, windows: int = 1) -> AudioEmotion:
    return AudioEmotion(scores(label, score), windows, "test-voice")


def make_utterance_event(
    text: str | None = "I am glad you came.",
    *,
    stream: str = "test",
    id: int = 1,
    start: float = 0.0,
    end: float = 1.5,
    label: str = "joy",
    score: float = 0.8,
    language: str | None = "en",
) -> UtteranceEvent:
    """An utterance event with text, voice and fused emotion all saying ``label``
    (``text=None``: no transcriber, so no text emotion either)."""
    text_emotion = make_text_emotion(text, label, score) if text else None
    audio_emotion = make_audio_emotion(label)
    fused = scores(label, score)
    return UtteranceEvent(
        stream=stream,
        id=id,
        start=start,
        end=end,
        text=text,
        language=language if text is not None else None,
        text_emotion=text_emotion,
        audio_emotion=audio_emotion,
        emotion=Emotion(label, score, fused, ["text", "audio"] if text else ["audio"], "test"),
        latency_ms=12.0,
        timing={"transcribe_ms": 5.0},
    )


def make_partial_event(
    *, stream: str = "test", id: int = 1, start: float = 0.0, end: float = 1.0, label="joy"
) -> PartialEvent:
    return PartialEvent(stream, id, start, end, make_audio_emotion(label))


def make_status_event(state: str = "started", *, stream: str = "test", **fields) -> StatusEvent:
    return StatusEvent(stream, state, **fields)


def synthetic_events(
    texts: tuple[str, ...] = ("I am glad you came.", "That was a sad day.", "Stop it now!"),
    *,
    stream: str = "test",
    labels: tuple[str, ...] = ("joy", "sadness", "anger"),
    partials: bool = True,
    levels: bool = False,
) -> list[Event]:
    """A whole run's events in the order the engine sends them: ``started``, then per
    text a partial (speech in progress) and its utterance, then ``stopped`` with counters.
    ``levels`` adds the level events a live source sends."""
    events: list[Event] = [StatusEvent(stream, "started")]
    at = 0.5
    for i, text in enumerate(texts, 1):
        label = labels[(i - 1) % len(labels)]
        length = 1.0 + 0.1 * len(text.split())
        if levels:
            events.append(LevelEvent(stream, at, -20.0, True))
        if partials:
            events.append(make_partial_event(stream=stream, id=i, start=at, end=at + 1.0))
        events.append(
            make_utterance_event(text, stream=stream, id=i, start=at, end=at + length, label=label)
        )
        at += length + 0.8
    counters = {"utterances": len(texts), "partials": len(texts) if partials else 0, "errors": 0}
    events.append(StatusEvent(stream, "stopped", counters=counters))
    return events
