"""The lexicon expert: a softmax regression over the NRC emotion lexicon's words.

Each word of the lexicon is labelled with its NRC basic emotions (none: "neutral"),
embedded by the sentence encoder, and a class-balanced softmax regression is fitted
on them; the result applies to a sentence's embedding. ``derive`` computes every array
the classifier keeps (``cache.py`` stores them).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from streamemo.api import ModelNotFoundError
from streamemo.default_plugins.offline_text.encoder import encode
from streamemo.default_plugins.offline_text.prototypes import LABELS, PROTOTYPES
from streamemo.model_files import package_dir

# L2 penalty of the lexicon regression: small, only to keep it well-posed on 384-d inputs.
WEIGHT_DECAY = 1e-3


def lexicon_path() -> Path:
    """nrclex's data file (the package itself is never imported: it pulls in TextBlob)."""
    pkg = package_dir("nrclex")
    path = pkg / "data" / "nrc_en.json" if pkg is not None else None
    if path is None or not path.is_file():
        raise ModelNotFoundError(
            f"NRC emotion lexicon nrclex/data/nrc_en.json not found (looked in {pkg}); "
            "fix: pip install nrclex"
        )
    return path


def lexicon_targets(lexicon: dict[str, list[str]]) -> tuple[list[str], np.ndarray]:
    """Soft targets: a word's mass is split over its NRC basic emotions; none -> neutral."""
    words = sorted(lexicon)
    targets = np.zeros((len(words), len(LABELS)), dtype=np.float32)
    for i, word in enumerate(words):
        emotions = [LABELS.index(e) for e in lexicon[word] if e in LABELS[:-1]]
        if emotions:
            targets[i, emotions] = 1.0 / len(emotions)
        else:
            targets[i, -1] = 1.0
    return words, targets


def fit_softmax_regression(x: np.ndarray, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Class-balanced multinomial logistic regression (convex; zero init -> deterministic)."""
    xt = torch.from_numpy(x)
    tt = torch.from_numpy(targets)
    mass = tt.sum(0)
    # Balance classes: the lexicon has ~5x more neutral words than words per emotion.
    class_w = mass.sum() / (len(LABELS) * mass.clamp(min=1.0))
    weight = torch.zeros(len(LABELS), x.shape[1], requires_grad=True)
    bias = torch.zeros(len(LABELS), requires_grad=True)
    opt = torch.optim.LBFGS([weight, bias], max_iter=500, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        opt.zero_grad()
        logp = torch.log_softmax(xt @ weight.T + bias, dim=-1)
        loss = -(tt * logp * class_w).sum(1).mean() + WEIGHT_DECAY * (weight**2).sum()
        loss.backward()
        return loss

    with torch.enable_grad():
        opt.step(closure)
    return weight.detach().numpy().copy(), bias.detach().numpy().copy()


def derive(
    tokenizer: object, model: torch.nn.Module, lexicon: dict[str, list[str]]
) -> dict[str, np.ndarray]:
    """The cacheable arrays: prototype embeddings and the lexicon regression's weights."""
    texts = [t for label in LABELS for t in PROTOTYPES[label]]
    owner = [i for i, label in enumerate(LABELS) for _ in PROTOTYPES[label]]
    words, targets = lexicon_targets(lexicon)
    weight, bias = fit_softmax_regression(encode(tokenizer, model, words, 256), targets)
    return {
        "prototypes": encode(tokenizer, model, texts),
        "prototype_label": np.asarray(owner, dtype=np.int64),
        "lex_weight": weight,
        "lex_bias": bias,
    }
