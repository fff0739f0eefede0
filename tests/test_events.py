"""The events' JSON form is a contract for sinks and other programs."""

import json

from streamemo.events import (
    AudioEmotion,
    Emotion,
    LevelEvent,
    PartialEvent,
    SentenceEmotion,
    StatusEvent,
    TextEmotion,
    UtteranceEvent,
    event_from_dict,
    event_to_dict,
    event_to_json,
)


def _utterance(**changes) -> UtteranceEvent:
    fields = dict(
        stream="mic",
        id=3,
        start=1.23456,
        end=4.5,
        text="I am happy.",
        language="en",
        text_emotion=TextEmotion(
            {"joy": 0.9, "anger": 0.1}, [SentenceEmotion("I am happy", "joy", 0.9)], "t"
        ),
        audio_emotion=AudioEmotion({"HAPPY": 0.6, "SAD": 0.4}, windows=2, model="a"),
        emotion=Emotion("joy", 0.8, {"joy": 0.8, "anger": 0.2}, ["text", "audio"], "weighted"),
        latency_ms=812.34567,
        timing={"transcribe_ms": 700.12345},
    )
    fields.update(changes)
    return UtteranceEvent(**fields)


def test_utterance_json_has_the_documented_fields_in_a_stable_order():
    data = event_to_dict(_utterance())
    assert list(data)[:5] == ["type", "stream", "id", "start", "end"]
    assert data["type"] == "utterance"
    for key in ("text", "language", "text_emotion", "audio_emotion", "emotion", "latency_ms"):
        assert key in data
    assert data["start"] == 1.235 and data["latency_ms"] == 812.346
    assert data["text_emotion"]["sentences"] == [
        {"text": "I am happy", "label": "joy", "score": 0.9}
    ]
    assert data["audio_emotion"]["windows"] == 2
    assert data["emotion"]["sources"] == ["text", "audio"]
    assert event_to_json(_utterance()) == event_to_json(_utterance())  # deterministic


def test_switched_off_analyses_are_null_not_invented():
    data = json.loads(event_to_json(_utterance(text_emotion=None, emotion=None, text=None)))
    assert data["text_emotion"] is None and data["emotion"] is None and data["text"] is None
    assert data["audio_emotion"]["scores"]["HAPPY"] == 0.6


def test_round_trip_through_json():
    for event in (
        _utterance(),
        _utterance(text_emotion=None, audio_emotion=None, emotion=None),
        PartialEvent("mic", 1, 0.5, 1.5, AudioEmotion({"SAD": 1.0}, 1, "a")),
        StatusEvent("mic", "stopped", counters={"utterances": 2}),
    ):
        again = event_from_dict(json.loads(event_to_json(event)))
        assert type(again) is type(event)
        assert event_to_dict(again) == event_to_dict(event)


def _strict(text: str):
    """json.loads that refuses NaN and Infinity, as every browser's JSON.parse does."""

    def refuse(constant):
        raise ValueError(f"{constant} is not JSON")

    return json.loads(text, parse_constant=refuse)


def test_json_never_holds_nan_or_infinity():
    nan, inf = float("nan"), float("inf")
    event = _utterance(
        latency_ms=inf,
        timing={"transcribe_ms": nan},
        emotion=Emotion("joy", nan, {"joy": nan, "anger": -inf}, ["text"], "weighted"),
        audio_emotion=AudioEmotion({"HAPPY": nan}, windows=1, model="a"),
    )
    data = _strict(event_to_json(event))
    assert data["latency_ms"] is None and data["timing"] == {"transcribe_ms": None}
    assert data["emotion"]["score"] is None
    assert data["emotion"]["scores"] == {"joy": None, "anger": None}
    assert data["audio_emotion"]["scores"] == {"HAPPY": None}
    assert data["text_emotion"]["scores"] == {"joy": 0.9, "anger": 0.1}  # the rest is untouched
    level = _strict(event_to_json(LevelEvent("mic", 1.0, -inf, False)))
    assert level["level_db"] is None
    assert "NaN" not in event_to_json(event) and "Infinity" not in event_to_json(event)
