"""The diary's mood: an utterance's fused emotion, pleasant or not, times its score,
whatever name the model gives that emotion."""

import pytest

from streamemo.diary.mood import mood


@pytest.mark.parametrize(
    ("label", "want"),
    [("joy", 0.5), ("HAPPY", 0.5), ("기쁨", 0.5), ("sadness", -0.5), ("슬픔", -0.5),
     ("ANXIOUS", -0.4), ("neutral", 0.0), ("excited", 0.0)],
)  # fmt: skip
def test_the_mood_is_the_emotions_valence_times_its_score(label, want):
    assert mood({"label": label, "score": 0.5, "scores": {label: 0.5}}) == want


def test_an_unsure_spread_is_not_read_as_unpleasant():
    flat = {k: 1 / 7 for k in ["joy", "sadness", "anger", "fear", "surprise", "disgust"]}
    flat["neutral"] = 1 / 7
    assert abs(mood({"label": "neutral", "score": 1 / 7, "scores": flat})) == 0.0
    assert mood(None) is None and mood({"label": None}) is None
