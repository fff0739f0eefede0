"""Offline English text-emotion classifier (no model hub, no training data).

Method: a product of two experts over all-MiniLM-L6-v2 sentence embeddings (mean pooling, L2
normalised). Expert 1 is zero-shot: the cosine similarity of the sentence to a few generic
first-person prototype sentences per label (e.g. "I feel happy and delighted."), averaged per
label and turned into logits with a fixed temperature. Expert 2 is a softmax regression trained
on the embeddings of the NRC emotion lexicon's words, each labelled with its NRC basic emotions
(words with none of them are "neutral"), then applied to the sentence embedding. The two
experts' log-probabilities are added and renormalised; "neutral" thus wins when neither expert
sees emotion evidence. The lexicon-derived arrays are cached (``cache.py``).

The parts: ``prototypes.py`` (expert 1's sentences), ``lexicon.py`` (expert 2's fit),
``encoder.py`` (the sentence embeddings), ``cache.py``; this module combines them.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from streamemo.default_plugins.offline_text import cache
from streamemo.default_plugins.offline_text.encoder import ENCODER, encode, encoder_folder
from streamemo.default_plugins.offline_text.lexicon import derive, lexicon_path
from streamemo.default_plugins.offline_text.prototypes import LABELS, TEMPERATURE

__all__ = ["LABELS", "OfflineEmotionClassifier"]


class OfflineEmotionClassifier:
    """Seven-way English text-emotion classifier that runs fully offline on CPU."""

    labels: tuple[str, ...] = LABELS

    def __init__(
        self,
        tokenizer: object,
        model: torch.nn.Module,
        prototypes: np.ndarray,
        prototype_label: np.ndarray,
        lex_weight: np.ndarray,
        lex_bias: np.ndarray,
    ) -> None:
        self._tokenizer = tokenizer
        self._model = model
        self._prototypes = prototypes  # (P, d) unit vectors
        self._prototype_label = prototype_label  # (P,) label index per prototype
        self._lex_weight = lex_weight  # (7, d)
        self._lex_bias = lex_bias  # (7,)

    @classmethod
    def load(cls, model: str | Path = ENCODER) -> OfflineEmotionClassifier:
        """``model``: the encoder, a folder or a ``pkg:`` or hub spec (see model_files)."""
        folder = encoder_folder(str(model))
        lexicon = lexicon_path().read_bytes()

        # Heavy import, deferred until a classifier is actually loaded.
        from transformers import AutoModel, AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
        encoder = AutoModel.from_pretrained(str(folder), local_files_only=True).eval()

        cache_file = cache.cache_dir() / f"offline_emotion_{cache.cache_key(folder, lexicon)}.npz"
        arrays = cache.read(cache_file)
        if arrays is None:
            arrays = derive(tokenizer, encoder, json.loads(lexicon))
            cache.write(cache_file, arrays)
        return cls(
            tokenizer,
            encoder,
            arrays["prototypes"],
            arrays["prototype_label"],
            arrays["lex_weight"],
            arrays["lex_bias"],
        )

    def predict(self, sentences: list[str]) -> np.ndarray:
        """Return (n, 7) probabilities in LABELS order."""
        emb = encode(self._tokenizer, self._model, list(sentences))
        if emb.shape[0] == 0:
            return np.zeros((0, len(LABELS)), dtype=np.float64)
        emb = emb.astype(np.float64)
        sims = emb @ self._prototypes.astype(np.float64).T
        proto = np.stack(
            [sims[:, self._prototype_label == k].mean(1) for k in range(len(LABELS))], axis=1
        )
        lex = emb @ self._lex_weight.astype(np.float64).T + self._lex_bias
        logits = _log_softmax(proto / TEMPERATURE) + _log_softmax(lex)
        probs = np.exp(_log_softmax(logits))
        return probs / probs.sum(1, keepdims=True)


def _log_softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(1, keepdims=True)
    return z - np.log(np.exp(z).sum(1, keepdims=True))
