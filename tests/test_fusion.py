"""Fusion: the todai preset against vectors worked out by hand from the seed's algorithm."""

import json

import pytest

from streamemo.default_plugins.late_fusion import todai
from streamemo.default_plugins.late_fusion.mixing import LateFusion
from streamemo.errors import ConfigError
from streamemo.events import AudioEmotion, TextEmotion
from tests.conftest import shared

KO = ["기쁨", "당황", "분노", "불안", "상처", "슬픔"]
V1_AUDIO = {"HAPPY": 0.4, "SAD": 0.1, "ANGRY": 0.2, "ANXIOUS": 0.1, "SURPRISE": 0.1, "FEAR": 0.1}


def _text(scores):
    return TextEmotion(scores, [], "test")


def _audio(scores):
    return AudioEmotion(scores, 1, "test")


def test_todai_reproduces_the_hand_computed_example():
    # text: two sentences, one 기쁨 and one 슬픔 -> shares 0.5 / 0.5
    # t_en = [0, .5, 0, .5, 0, 0] (ANGRY SAD DISGUST HAPPY FEAR SURPRISE)
    # a_en = normalize([.2, .1, 0, .4, .1, .1]) = [2, 1, 0, 4, 1, 1] / 9   (ANXIOUS has no column)
    # fused_en = .7 t_en + .3 a_en = [.2/3, .35+.1/3, 0, .35+.4/3, .1/3, .1/3]
    # fused_ko = M_en2ko @ fused_en = [.48333, .12667, .05333, .03667, .09, .30667] / 1.09667
    text = _text({k: (0.5 if k in ("기쁨", "슬픔") else 0.0) for k in KO})
    fused = todai().fuse(text, _audio(V1_AUDIO))
    expected = [0.4407295, 0.1155015, 0.0486322, 0.0334347, 0.0820669, 0.2796353]
    assert list(fused.scores) == KO
    assert [fused.scores[k] for k in KO] == pytest.approx(expected, abs=1e-6)
    assert fused.label == "기쁨" and fused.sources == ["text", "audio"] and fused.method == "todai"


def test_todai_with_no_text_uses_the_voice_alone_and_says_so():
    # fused_en = a_en; M_en2ko @ a_en = [4, 1.7, 1.6, 1.1, .6, .8] / 9 -> / 9.8 after normalising
    fused = todai().fuse(None, _audio(V1_AUDIO))
    expected = [4 / 9.8, 1.7 / 9.8, 1.6 / 9.8, 1.1 / 9.8, 0.6 / 9.8, 0.8 / 9.8]
    assert [fused.scores[k] for k in KO] == pytest.approx(expected, abs=1e-6)
    assert fused.sources == ["audio"]


def test_todai_with_no_voice_uses_the_text_alone():
    # t_en = HAPPY only; M_en2ko @ HAPPY = 기쁨 1, 당황 .2 -> 1/1.2, .2/1.2
    fused = todai().fuse(_text({k: float(k == "기쁨") for k in KO}), None)
    assert fused.scores["기쁨"] == pytest.approx(1 / 1.2, abs=1e-6)
    assert fused.scores["당황"] == pytest.approx(0.2 / 1.2, abs=1e-6)
    assert fused.sources == ["text"]
    assert todai().fuse(None, None) is None


def test_builtin_preset_equals_the_seed_recipe_file():
    recipe = shared("models/fusion_todai.json")
    from_file = todai(recipe=str(recipe))
    builtin = todai()
    text = _text(dict(zip(KO, [0.1, 0.3, 0.05, 0.25, 0.2, 0.1], strict=True)))
    a, b = builtin.fuse(text, _audio(V1_AUDIO)), from_file.fuse(text, _audio(V1_AUDIO))
    assert a.scores == pytest.approx(b.scores, abs=1e-12)
    assert json.loads(recipe.read_text())["weights"] == builtin.weights


def test_weighted_fusion_maps_labels_and_mixes_with_weights():
    fusion = LateFusion(
        labels=["joy", "sadness", "fear"],
        weights={"text": 0.75, "audio": 0.25},
        audio_map={"HAPPY": "joy", "SAD": "sadness", "ANXIOUS": {"fear": 1.0}},
        by_confidence=False,  # the configured weights alone (see the tests of confidence)
    )
    text = _text({"joy": 0.2, "sadness": 0.8, "fear": 0.0})
    audio = _audio({"HAPPY": 1.0, "SAD": 0.0, "ANXIOUS": 0.0, "OTHER": 0.0})
    fused = fusion.fuse(text, audio)
    # joy = .75*.2 + .25*1 = .4, sadness = .75*.8 = .6
    assert fused.scores["joy"] == pytest.approx(0.4, abs=1e-9)
    assert fused.scores["sadness"] == pytest.approx(0.6, abs=1e-9)
    assert fused.label == "sadness"


def test_a_map_to_an_unknown_label_is_a_config_error():
    with pytest.raises(ConfigError, match="'happiness', which is not one of the labels joy"):
        LateFusion(labels=["joy"], audio_map={"HAPPY": "happiness"})


def _shipped_weighted(config="offline-en.toml") -> LateFusion:
    """The weighted fusion exactly as a shipped config sets it up."""
    from streamemo.config import load_config
    from tests.conftest import REPO

    table = load_config(REPO / "configs" / config)["fuser"]
    assert table.pop("name") == "weighted"
    return LateFusion(**table)


SEVEN = ["joy", "sadness", "anger", "fear", "surprise", "disgust", "neutral"]
FLAT_VOICE = dict.fromkeys(V1_AUDIO, 1 / 6)


def test_a_flat_voice_projects_to_flat_through_a_many_to_one_map():
    fusion = _shipped_weighted()
    # FEAR and ANXIOUS both go to fear, nothing goes to disgust or neutral: summed, a voice
    # that cannot tell read as fear 1/3 (and noise became "fear 0.34" events)
    assert fusion.audio_map["FEAR"] == fusion.audio_map["ANXIOUS"] == "fear"
    alone = fusion.fuse(None, _audio(FLAT_VOICE))
    assert list(alone.scores) == SEVEN
    assert list(alone.scores.values()) == pytest.approx([1 / 7] * 7, abs=1e-12)
    # the seed's own near-uniform reading of real speech (FEAR 0.188 on top) stays near flat
    seed = json.loads(shared("models/todai-audio-v1/expected.json").read_text())
    near_flat = fusion.fuse(None, _audio(seed["ko_diary_16k.wav"]["male"]))
    assert max(near_flat.scores.values()) < 1 / 7 + 0.02
    # beside words, a flat voice changes no ranking: by the configured weights alone,
    # 0.7 text + 0.3 x 1/7 on every label
    text = dict(zip(SEVEN, [0.05, 0.1, 0.05, 0.1, 0.29, 0.05, 0.36], strict=True))
    fusion.by_confidence = False
    fused = fusion.fuse(_text(text), _audio(FLAT_VOICE))
    assert fused.label == "neutral"  # summed, the voice's fear 1/3 made it surprise vs neutral
    assert [fused.scores[k] for k in SEVEN] == pytest.approx(
        [0.7 * text[k] + 0.3 / 7 for k in SEVEN], abs=1e-12
    )
    # and weighted by confidence (the shipped setting), a voice at confidence 0 adds nothing
    fusion.by_confidence = True
    fused = fusion.fuse(_text(text), _audio(FLAT_VOICE))
    assert [fused.scores[k] for k in SEVEN] == pytest.approx([text[k] for k in SEVEN], abs=1e-9)


def test_a_confident_voice_still_counts_through_a_balanced_map():
    fusion = _shipped_weighted()
    # fear is the mean of FEAR and ANXIOUS; disgust and neutral, which the voice model has
    # no label for, get the mean of all six (the voice says nothing about them)
    voice = {"HAPPY": 0.02, "SAD": 0.02, "ANGRY": 0.02, "ANXIOUS": 0.02, "SURPRISE": 0.02}
    fused = fusion.fuse(None, _audio({**voice, "FEAR": 0.9}))
    mean = 1 / 6
    raw = {"joy": 0.02, "sadness": 0.02, "anger": 0.02, "fear": 0.46, "surprise": 0.02}
    raw |= {"disgust": mean, "neutral": mean}
    assert fused.label == "fear"
    assert fused.scores == pytest.approx({k: v / sum(raw.values()) for k, v in raw.items()})


def test_todai_keeps_the_seeds_summed_matrices():
    # the seed's recipe is not balanced: a flat Korean text reading is not flat after it.
    # t_en = M_ko2en @ 1/6 = [1.2, 1.6, .2, 1, 1.1, .9] / 6 (ANGRY SAD DISGUST HAPPY FEAR
    # SURPRISE); M_en2ko @ t_en = [1, 1.05, 1.02, 1.15, .7, 1.28] / 6, normalised by 6.2
    assert todai().balanced is False
    fused = todai().fuse(_text(dict.fromkeys(KO, 1 / 6)), None)
    expected = [1, 1.05, 1.02, 1.15, 0.7, 1.28]
    assert [fused.scores[k] for k in KO] == pytest.approx([v / 6.2 for v in expected], abs=1e-9)


def test_voice_confidence_is_the_distance_from_flat():
    from streamemo.analysis import VOICE_CONFIDENCE_MIN
    from streamemo.scores import confidence

    assert confidence(FLAT_VOICE) == pytest.approx(0.0, abs=1e-12)
    assert confidence([0.0, 1.0, 0.0]) == pytest.approx(1.0)
    assert confidence({"a": 0.5, "b": 0.5}) == pytest.approx(0.0, abs=1e-12)
    # the seed's near-uniform output, top 0.19 of 6, is not confident
    seed = [0.19, 0.18, 0.17, 0.16, 0.15, 0.15]
    assert confidence(seed) < 0.01 < VOICE_CONFIDENCE_MIN
    # a clear reading is: 0.6 on one label of six (the rest even) is 0.24
    assert confidence([0.6] + [0.08] * 5) > VOICE_CONFIDENCE_MIN
    # the more one label stands out, the more confident, up to 1
    tops = [0.2, 0.3, 0.5, 0.7, 0.9, 0.99]
    values = [confidence([t] + [(1 - t) / 5] * 5) for t in tops]
    assert values == sorted(values) and all(0 < v < 1 for v in values)
    # no usable numbers: nothing to be confident about
    assert confidence([1.0]) == confidence([]) == confidence([float("nan"), 1.0]) == 0.0
