"""Fusion: the todai preset against vectors worked out by hand from the seed's algorithm."""

import json

import pytest

from streamemo.default_plugins.fusion import todai
from streamemo.errors import ConfigError
from streamemo.events import AudioEmotion, TextEmotion
from streamemo.fusion import LateFusion
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
