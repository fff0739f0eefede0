"""The inputs of the speech-emotion throughput benchmark (ser_throughput.py): the shared
English utterances, and a wav2vec2-base-sized checkpoint built here (no hub is reachable)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import SAMPLE_RATE, shared_path

PREROLL_S, TAIL_S = 0.2, 0.6  # what the segmenter adds around a voiced stretch (default.toml)
BASE = dict(use_weighted_layer_sum=True, classifier_proj_size=256)  # as superb's config.json
LABELS = ["neu", "hap", "ang", "sad"]


SETS = ("diary", "singles")


def utterance_sets(quick: bool, names: list[str]) -> dict[str, list[np.ndarray]]:
    """en_diary.wav cut at its true utterances (with the segmenter's pre-roll and tail),
    and the 49 single utterances, int16 as the analysers get them."""
    from streamemo.audio_io import read_all

    sets = {}
    if "diary" in names:
        diary = read_all(shared_path("audio/en/en_diary.wav"))
        truth = json.loads(shared_path("audio/en/en_diary.json").read_text(encoding="utf-8"))
        spans = [(u["start"] - PREROLL_S, u["end"] + TAIL_S) for u in truth["utterances"]]
        cuts = [diary[max(0, int(a * SAMPLE_RATE)) : int(b * SAMPLE_RATE)] for a, b in spans]
        sets["en_diary"] = cuts[:1] if quick else cuts
    if "singles" in names:
        folder = shared_path("audio/en/utterances")
        index = json.loads((folder / "index.json").read_text(encoding="utf-8"))
        singles = [read_all(folder / item["file"]) for item in index]
        sets["utterances/*.wav"] = singles[:2] if quick else singles
    return sets


def build_checkpoint(folder: Path, quick: bool) -> dict[str, Any]:
    """wav2vec2-base for sequence classification, random weights, saved like the hub's."""
    import torch
    from transformers import (
        Wav2Vec2Config,
        Wav2Vec2FeatureExtractor,
        Wav2Vec2ForSequenceClassification,
    )

    torch.manual_seed(0)
    size = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=37)
    config = Wav2Vec2Config(
        **BASE,
        **(size if quick else {}),
        id2label=dict(enumerate(LABELS)),
        label2id={label: i for i, label in enumerate(LABELS)},
    )
    model = Wav2Vec2ForSequenceClassification(config)
    model.save_pretrained(folder)
    # wav2vec2-base's extractor: normalised input, no attention mask (group-norm front end)
    Wav2Vec2FeatureExtractor(do_normalize=True, return_attention_mask=False).save_pretrained(folder)
    return {
        "parameters": sum(p.numel() for p in model.parameters()),
        "layers": config.num_hidden_layers,
        "hidden": config.hidden_size,
        "safetensors_mb": round((folder / "model.safetensors").stat().st_size / 2**20, 1),
    }
