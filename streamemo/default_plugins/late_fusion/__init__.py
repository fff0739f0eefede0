"""Fusers: ``weighted`` late fusion over label maps, and the seed's ``todai`` preset."""

from __future__ import annotations

import json
from pathlib import Path

from streamemo.api import ConfigError, hookimpl
from streamemo.default_plugins.late_fusion.mixing import LateFusion

# The seed's recipe (its fusion_todai.json), written as label maps:
# Korean text labels -> the audio model's English labels -> back to Korean.
TODAI_TEXT_LABELS = ["기쁨", "당황", "분노", "불안", "상처", "슬픔"]
TODAI_MIX_LABELS = ["ANGRY", "SAD", "DISGUST", "HAPPY", "FEAR", "SURPRISE"]
TODAI_KO_TO_EN = {
    "기쁨": {"HAPPY": 1.0},
    "당황": {"FEAR": 0.3, "SURPRISE": 0.7},
    "분노": {"ANGRY": 1.0},
    "불안": {"FEAR": 0.8, "SURPRISE": 0.2},
    "상처": {"ANGRY": 0.2, "SAD": 0.6, "DISGUST": 0.2},
    "슬픔": {"SAD": 1.0},
}
TODAI_EN_TO_KO = {
    "ANGRY": {"분노": 0.8, "상처": 0.2},
    "SAD": {"상처": 0.2, "슬픔": 0.8},
    "DISGUST": {"분노": 0.3, "상처": 0.7},
    "HAPPY": {"기쁨": 1.0, "당황": 0.2},
    "FEAR": {"당황": 0.2, "불안": 0.8},
    "SURPRISE": {"당황": 0.7, "불안": 0.3},
}
TODAI_WEIGHTS = {"text": 0.7, "audio": 0.3}


def _maps_from_matrix(block: dict) -> dict[str, dict[str, float]]:
    """A recipe matrix (rows = targets, cols = sources) as a source -> targets map."""
    return {
        col: {
            row: float(block["matrix"][i][j])
            for i, row in enumerate(block["rows"])
            if block["matrix"][i][j]
        }
        for j, col in enumerate(block["cols"])
    }


def todai(recipe: str | None = None, audio_map: dict | None = None) -> LateFusion:
    """The seed's fusion; ``recipe`` reads the same numbers from a fusion_todai.json file.

    The audio side maps by label name (read from the checkpoint's labels.json):
    labels the recipe's matrices do not name are dropped, as the seed's order demands.
    """
    if recipe is None:
        ko_en, en_ko, weights, mix, out = (
            TODAI_KO_TO_EN,
            TODAI_EN_TO_KO,
            TODAI_WEIGHTS,
            TODAI_MIX_LABELS,
            TODAI_TEXT_LABELS,
        )
    else:
        path = Path(recipe)
        if not path.is_file():
            raise ConfigError(f"fuser.recipe {recipe!r} not found: give a fusion_todai.json path")
        data = json.loads(path.read_text(encoding="utf-8"))
        ko_en, en_ko = _maps_from_matrix(data["M_ko2en"]), _maps_from_matrix(data["M_en2ko"])
        weights, mix, out = data["weights"], data["M_ko2en"]["rows"], data["M_en2ko"]["rows"]
    return LateFusion(
        labels=mix,
        weights=weights,
        text_map=ko_en,
        audio_map=audio_map,
        output_labels=out,
        output_map=en_ko,
        method="todai",
        balanced=False,  # the seed's matrices, summed as the seed sums them
        by_confidence=False,  # and its fixed 0.7 / 0.3
    )


@hookimpl
def register_fusers(register):
    register("weighted", LateFusion)
    register("todai", todai)
