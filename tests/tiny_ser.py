"""Tiny speech-emotion checkpoints built here (random weights, real architectures), saved
the way the hub holds them: a folder, or an HF cache with blobs, a snapshot and refs/main."""

from __future__ import annotations

import json
from pathlib import Path

SUPERB_LABELS = ["neu", "hap", "ang", "sad"]  # superb/wav2vec2-base-superb-er's id2label
# three convolutions of stride 10, 8, 4: 199 frames per 4 s window, attention stays cheap
CONV = {"conv_dim": (16, 16, 16), "conv_stride": (10, 8, 4), "conv_kernel": (10, 8, 4)}


def build(
    folder: Path, arch: str = "wav2vec2", labels: list[str] = SUPERB_LABELS, seed: int = 0
) -> Path:
    """A ``*ForSequenceClassification`` with hidden size 32 and 2 layers, and its feature
    extractor, saved as safetensors. wav2vec2: layer-norm front end, attention mask
    (windows of any length share a pass); hubert: group norm, no mask (one pass per length);
    whisper: an encoder on log-mel features, every input padded to 30 s (one pass).
    """
    import torch
    from transformers import (
        HubertConfig,
        HubertForSequenceClassification,
        Wav2Vec2Config,
        Wav2Vec2FeatureExtractor,
        Wav2Vec2ForSequenceClassification,
    )

    torch.manual_seed(seed)
    common = dict(
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=37,
        num_conv_pos_embeddings=16,
        num_conv_pos_embedding_groups=2,
        classifier_proj_size=16,
        vocab_size=8,
        id2label=dict(enumerate(labels)),
        label2id={label: i for i, label in enumerate(labels)},
        **CONV,
    )
    if arch == "whisper":
        return _whisper(folder, labels)
    if arch == "wav2vec2":
        config = Wav2Vec2Config(**common, feat_extract_norm="layer", do_stable_layer_norm=True)
        model = Wav2Vec2ForSequenceClassification(config)
    elif arch == "hubert":
        config = HubertConfig(**common, feat_extract_norm="group")
        model = HubertForSequenceClassification(config)
    else:
        raise ValueError(arch)
    _widen(model)
    model.eval().save_pretrained(folder)
    Wav2Vec2FeatureExtractor(
        feature_size=1,
        sampling_rate=16000,
        padding_value=0.0,
        do_normalize=True,
        return_attention_mask=arch == "wav2vec2",
    ).save_pretrained(folder)
    assert (folder / "model.safetensors").is_file()
    return folder


def _widen(model) -> None:
    """A random head this size reads every input as flat: widen it."""
    import torch

    with torch.no_grad():
        model.projector.weight.normal_(0.0, 0.2)
        model.classifier.weight.normal_(0.0, 0.5)


def _whisper(folder: Path, labels: list[str]) -> Path:
    from transformers import WhisperConfig, WhisperFeatureExtractor, WhisperForAudioClassification

    size = dict(encoder_layers=2, encoder_attention_heads=2, encoder_ffn_dim=37, d_model=32)
    tokens = dict(pad_token_id=0, bos_token_id=1, eos_token_id=2, decoder_start_token_id=1)
    config = WhisperConfig(
        **size,
        **tokens,
        vocab_size=8,
        decoder_layers=1,
        decoder_attention_heads=2,
        classifier_proj_size=16,
        id2label=dict(enumerate(labels)),
        label2id={label: i for i, label in enumerate(labels)},
    )
    model = WhisperForAudioClassification(config)
    _widen(model)
    model.eval().save_pretrained(folder)
    WhisperFeatureExtractor(feature_size=80).save_pretrained(folder)
    return folder


def edit_json(path: Path, **changes: object) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    data.update(changes)
    path.write_text(json.dumps(data), encoding="utf-8")


# a module that, if anything ever imported it, leaves a file behind (format in: marker=PATH)
EVIL = """
Path({marker!r}).write_text("code from the model folder ran")
"""
