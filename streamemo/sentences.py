"""Sentence-level text emotion, as the seed does it: split, classify each, aggregate."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import numpy as np

from streamemo.errors import ConfigError
from streamemo.events import SentenceEmotion, TextEmotion

_SPLIT = re.compile(r"[.?!\n]+")
AGGREGATES = ("share", "mean")


def split_sentences(text: str) -> list[str]:
    """Split on ``.``, ``?``, ``!`` and newlines; drop empty pieces."""
    return [s.strip() for s in _SPLIT.split(text) if s.strip(" \t\"'")]


def check_aggregate(aggregate: str) -> str:
    if aggregate not in AGGREGATES:
        raise ConfigError(
            f"text.aggregate must be one of {', '.join(AGGREGATES)}, not {aggregate!r}"
        )
    return aggregate


def sentence_emotion(
    text: str,
    predict: Callable[[list[str]], np.ndarray],
    labels: Sequence[str],
    aggregate: str,
    model: str,
) -> TextEmotion | None:
    """``share``: the fraction of sentences per label (the seed); ``mean``: mean probabilities."""
    sentences = split_sentences(text)
    if not sentences:
        return None  # nothing was said: no text emotion, not an invented one
    probs = np.asarray(predict(sentences), dtype=np.float64)
    best = probs.argmax(axis=1)
    if aggregate == "share":
        scores = np.bincount(best, minlength=len(labels)) / len(sentences)
    else:
        scores = probs.mean(axis=0)
    return TextEmotion(
        scores={label: float(s) for label, s in zip(labels, scores, strict=True)},
        sentences=[
            SentenceEmotion(sentence, labels[b], float(p[b]))
            for sentence, b, p in zip(sentences, best, probs, strict=True)
        ],
        model=model,
    )
