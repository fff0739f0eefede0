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
    return sentence_emotions([text], predict, labels, aggregate, model)[0]


def sentence_emotions(
    texts: Sequence[str],
    predict: Callable[[list[str]], np.ndarray],
    labels: Sequence[str],
    aggregate: str,
    model: str,
) -> list[TextEmotion | None]:
    """The same for several texts, with every sentence of all of them in one ``predict`` call."""
    split = [split_sentences(text) for text in texts]
    flat = [sentence for sentences in split for sentence in sentences]
    probs = np.asarray(predict(flat), dtype=np.float64) if flat else np.zeros((0, len(labels)))
    results: list[TextEmotion | None] = []
    offset = 0
    for sentences in split:
        mine = probs[offset : offset + len(sentences)]
        offset += len(sentences)
        results.append(_aggregate(sentences, mine, labels, aggregate, model))
    return results


def _aggregate(
    sentences: list[str], probs: np.ndarray, labels: Sequence[str], aggregate: str, model: str
) -> TextEmotion | None:
    if not sentences:
        return None  # nothing was said: no text emotion, not an invented one
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
