"""Confidence on every result: computed centrally, kept in the JSON, used by the engine's
no-speech rule and by the weighted fuser (by side, before any label map)."""

import json
import math

import numpy as np
import pytest

from streamemo.analysis import VOICE_CONFIDENCE_MIN
from streamemo.api import (
    UNSURE_BELOW,
    AudioAnalyser,
    AudioEmotion,
    Emotion,
    Fuser,
    TextEmotion,
    confidence,
    confidence_of,
    disagree,
    sure,
)
from streamemo.default_plugins.late_fusion import todai
from streamemo.default_plugins.late_fusion.mixing import LateFusion
from streamemo.events import event_from_dict, event_to_dict
from streamemo.testing import run_pipeline
from streamemo.testing.events import make_utterance_event
from streamemo.testing.fakes import FixedTranscriber
from tests.conftest import shared

SEED_LABELS = ["HAPPY", "SAD", "ANGRY", "ANXIOUS", "SURPRISE", "FEAR"]
SEVEN = ["joy", "sadness", "anger", "fear", "surprise", "disgust", "neutral"]
FLAT = dict.fromkeys(SEED_LABELS, 1 / 6)
# the seed's 6 voice labels onto offline-en's 7: FEAR and ANXIOUS both go to fear
SEED_TO_SEVEN = {"HAPPY": "joy", "SAD": "sadness", "ANGRY": "anger", "ANXIOUS": "fear",
                 "SURPRISE": "surprise", "FEAR": "fear"}  # fmt: skip


def _text(scores, **kw):
    return TextEmotion(scores, [], "t", **kw)


def _voice(scores, **kw):
    return AudioEmotion(scores, 1, "v", **kw)


def test_every_result_carries_a_confidence_computed_from_its_scores_or_its_own():
    peaked = {"joy": 0.7, "sadness": 0.2, "anger": 0.1}
    for result in (
        _text(peaked),
        _voice(peaked),
        Emotion("joy", 0.7, peaked, ["text"], "m"),
    ):
        assert result.confidence == pytest.approx(confidence(peaked)) and 0 < result.confidence < 1
    assert _voice(FLAT).confidence == pytest.approx(0.0, abs=1e-12)
    # an analyser that knows better gives its own; out of range is clipped, NaN recomputed
    assert _voice(FLAT, confidence=0.8).confidence == 0.8
    assert AudioEmotion(FLAT, 1, "v", 0.8).confidence == 0.8  # positionally, last
    assert _voice(peaked, confidence=7.0).confidence == 1.0
    assert _voice(peaked, confidence=-1).confidence == 0.0
    assert _voice(peaked, confidence=math.nan).confidence == pytest.approx(confidence(peaked))
    # one threshold, the engine's no-speech rule's too
    assert VOICE_CONFIDENCE_MIN == UNSURE_BELOW == 0.1
    assert not sure(_voice(FLAT)) and sure(_voice(peaked)) and not sure(None)


def test_the_json_form_has_confidence_and_an_older_event_without_it_still_reads():
    event = make_utterance_event()
    event.audio_emotion = _voice(FLAT, confidence=0.25)
    data = json.loads(json.dumps(event_to_dict(event)))
    for key in ("text_emotion", "audio_emotion", "emotion"):
        assert list(data[key])[-1] == "confidence"  # after the older fields, which stay
        assert data[key]["confidence"] == round(getattr(event, key).confidence, 6)
    assert data["audio_emotion"]["confidence"] == 0.25  # its own, kept
    assert event_from_dict(data).audio_emotion.confidence == 0.25
    # an event written before results had a confidence: computed from its scores
    for key in ("text_emotion", "audio_emotion", "emotion"):
        del data[key]["confidence"]
    older = event_from_dict(data)
    assert older.audio_emotion.confidence == pytest.approx(0.0, abs=1e-9)
    text_scores = data["text_emotion"]["scores"]
    assert older.text_emotion.confidence == pytest.approx(confidence(text_scores))
    # the dicts themselves read the same way (the diary keeps them as they came)
    assert confidence_of(data["text_emotion"]) == pytest.approx(older.text_emotion.confidence)
    assert confidence_of(None) == 0.0 and not sure({"scores": {}})


class _FlatVoice(AudioAnalyser):
    """A third-party analyser that knows nothing of confidence; ``given``: it says its own."""

    def __init__(self, scores=None, given=None):
        self.scores, self.given = scores or FLAT, given

    def analyse(self, audio):
        if self.given is None:
            return AudioEmotion(dict(self.scores), 1, "flat")
        return AudioEmotion(dict(self.scores), 1, "flat", self.given)


def test_any_analyser_gets_confidence_and_the_no_speech_rule_reads_its_own():
    peaked = {"calm": 0.9, "excited": 0.1}
    run = run_pipeline(
        audio=_FlatVoice(peaked),
        fuser="weighted",
        options={"fuser": {"labels": ["calm", "excited", "joy", "neutral"]}},
    )
    assert len(run.utterances) == 3
    for u in run.utterances:
        assert u.audio_emotion.confidence == pytest.approx(confidence(peaked))
        assert 0 <= u.emotion.confidence <= max(u.text_emotion.confidence, confidence(peaked))
    # no words heard: a flat voice is no speech, unless its analyser says it is sure
    silent = FixedTranscriber(("",))
    skipped = run_pipeline(transcriber=silent, audio=_FlatVoice())
    assert skipped.utterances == [] and skipped.counters["skipped_no_speech"] == 3
    kept = run_pipeline(transcriber=FixedTranscriber(("",)), audio=_FlatVoice(given=0.5))
    assert len(kept.utterances) == 3 and kept.counters["skipped_no_speech"] == 0


class _BoldFuser(Fuser):
    """A third-party fuser that claims joy whatever it is given."""

    def fuse(self, text, audio):
        return Emotion("joy", 1.0, {"joy": 1.0, "sadness": 0.0}, ["audio"], "bold")


def test_no_fuser_makes_a_result_surer_than_what_went_in():
    run = run_pipeline(text=False, audio=_FlatVoice(), fuser=_BoldFuser())
    assert len(run.utterances) == 3
    for u in run.utterances:
        assert u.emotion.scores["joy"] == 1.0  # its scores are its own
        assert u.emotion.confidence == pytest.approx(0.0, abs=1e-9)  # from a flat voice
        assert not sure(u.emotion)


def test_weighted_fusion_weights_each_side_by_its_confidence():
    fusion = LateFusion(labels=["joy", "sadness"], weights={"text": 0.5, "audio": 0.5})
    text = _text({"joy": 0.9, "sadness": 0.1})
    voice = _voice({"joy": 0.3, "sadness": 0.7})
    ct, cv = text.confidence, voice.confidence
    fused = fusion.fuse(text, voice)
    joy = (0.5 * ct * 0.9 + 0.5 * cv * 0.3) / (0.5 * ct + 0.5 * cv)
    assert fused.scores["joy"] == pytest.approx(joy, abs=1e-9)
    assert fused.label == "joy" and ct > cv  # the surer text wins more than half the weight
    plain = LateFusion(labels=["joy", "sadness"], by_confidence=False).fuse(text, voice)
    assert plain.scores["joy"] == pytest.approx(0.6, abs=1e-9)  # (0.9 + 0.3) / 2
    # a side's own confidence counts, whatever its scores: a voice that says it is unsure
    # adds nothing, one that says it is sure counts in full
    unsure = fusion.fuse(text, _voice({"joy": 0.0, "sadness": 1.0}, confidence=0.0))
    assert unsure.scores["joy"] == pytest.approx(0.9, abs=1e-9)
    # both sides at 0: the configured weights; the result is as unsure as they were
    both = fusion.fuse(_text({"joy": 0.5, "sadness": 0.5}), _voice({"joy": 0.5, "sadness": 0.5}))
    assert both.scores["joy"] == pytest.approx(0.5) and both.confidence == 0.0


@pytest.mark.parametrize("balanced", [True, False])
def test_a_many_to_one_map_never_makes_a_flat_voice_sure(balanced):
    fusion = LateFusion(labels=SEVEN, weights={"text": 0.7, "audio": 0.3},
                        audio_map=SEED_TO_SEVEN, balanced=balanced)  # fmt: skip
    alone = fusion.fuse(None, _voice(FLAT))
    mapped = alone.scores
    if not balanced:  # summed, the map makes fear 1/3: those scores alone would look sure
        assert mapped["fear"] == pytest.approx(1 / 3) and confidence(mapped) > UNSURE_BELOW
    assert alone.confidence == 0.0 and not sure(alone)  # the voice's own 0, carried through
    # the seed's own reading of real speech (top 0.19 of 6), the same
    seed = json.loads(shared("models/todai-audio-v1/expected.json").read_text())
    reading = _voice(seed["ko_diary_16k.wav"]["male"])
    assert reading.confidence < 0.01 and fusion.fuse(None, reading).confidence < 0.01
    # beside words, it changes (almost) nothing, whatever the map does to it
    text = _text(dict(zip(SEVEN, [0.05, 0.1, 0.05, 0.1, 0.29, 0.05, 0.36], strict=True)))
    fused = fusion.fuse(text, _voice(FLAT))
    assert fused.scores == pytest.approx(text.scores, abs=1e-9) and fused.label == "neutral"
    assert fused.confidence == pytest.approx(text.confidence)
    near = fusion.fuse(text, reading)
    assert near.scores == pytest.approx(text.scores, abs=0.003)


def test_the_fused_confidence_is_never_above_the_surer_side():
    rng = np.random.default_rng(13)
    fusion = LateFusion(labels=SEVEN, audio_map=SEED_TO_SEVEN)
    for _ in range(200):
        sharp = rng.uniform(0.2, 5)
        text = _text(dict(zip(SEVEN, rng.dirichlet(np.full(7, sharp)), strict=True)))
        voice = _voice(dict(zip(SEED_LABELS, rng.dirichlet(np.full(6, sharp)), strict=True)))
        fused = fusion.fuse(text, voice)
        cap = max(text.confidence, voice.confidence)
        assert fused.confidence == pytest.approx(min(confidence(fused.scores), cap))
    # the seed's recipe: its summed matrices make a flat voice not flat (ANXIOUS is dropped,
    # HAPPY goes to 기쁨 1.2 in all), yet what went in could not tell: confidence 0
    peaked = todai().fuse(None, _voice(FLAT))
    assert confidence(peaked.scores) > 0.02 and peaked.confidence == 0.0
    assert todai().by_confidence is False  # and its weights stay the fixed 0.7 / 0.3


def test_disagreement_needs_two_sure_sides_naming_different_emotions():
    joy = _text({"joy": 0.9, "sadness": 0.1})
    sad_voice = _voice({"HAPPY": 0.1, "SAD": 0.9})
    happy_voice = _voice({"HAPPY": 0.9, "SAD": 0.1})
    assert disagree(joy, sad_voice)
    assert not disagree(joy, happy_voice)  # joy and HAPPY: the same emotion
    assert not disagree(joy, _voice({"HAPPY": 0.45, "SAD": 0.55}))  # an unsure voice
    assert not disagree(_text({"joy": 0.5, "sadness": 0.5}), sad_voice)  # an unsure text
    assert not disagree(joy, None) and not disagree(None, sad_voice)
    excited = _voice({"excited": 0.95, "calm": 0.05})  # another kind of label: no verdict
    assert sure(excited) and not disagree(joy, excited)
    assert disagree(
        event_to_dict(_event(joy, sad_voice))["text_emotion"],
        {"scores": {"SAD": 0.9, "HAPPY": 0.1}},
    )  # fmt: skip  (JSON dicts too)


def _event(text, voice):
    event = make_utterance_event()
    event.text_emotion, event.audio_emotion = text, voice
    return event
