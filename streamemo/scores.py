"""What a score distribution says about itself: how confident it is, and what follows.

**Confidence** (``confidence(scores)``) is how far a distribution is from a flat guess:
1 - its entropy / log(n), in [0, 1]. 0: every label equally likely, the model cannot
tell; 1: everything on one label. It uses the whole distribution, not only the top
score, and means the same for any number of labels. Every ``TextEmotion``,
``AudioEmotion`` and ``Emotion`` carries one (``.confidence``, and ``"confidence"`` in
the JSON form): computed from its scores when it is made, unless the analyser gave its
own. Results read back from older JSON, which has none, get it from their scores. A
fused result is never surer than the surer of its inputs (the engine sees to it, for any
fuser).

**Unsure** means a confidence under ``UNSURE_BELOW`` (0.1). One threshold for
everything: the engine skips an utterance with no words and an unsure voice as no
speech, the weighted fuser gives an unsure side almost no weight, and every display
(console, live view, dashboard, diary) writes "unsure" instead of its label and flags
text and voice as disagreeing only when both are sure. What 0.1 is, in top scores
with the other labels even: 0.42 of 6 labels, 0.40 of 7, 0.68 of 2. The seed's voice
model on the English test voice reads about 0.002 (top 0.19 of 6); the offline text
model on the same diary reads 0.08 to 0.96, under 0.1 on two of the three it gets wrong.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

UNSURE_BELOW = 0.1

# Text, voice and fused labels differ by model (joy / HAPPY / 기쁨): one name per emotion,
# to tell whether two sides say the same. The dashboard has the same table (dashboard.html).
CANONICAL = {
    "joy": "joy", "happy": "joy", "happiness": "joy", "기쁨": "joy",
    "sadness": "sadness", "sad": "sadness", "슬픔": "sadness", "상처": "sadness",
    "anger": "anger", "angry": "anger", "분노": "anger",
    "fear": "fear", "anxious": "fear", "불안": "fear",
    "surprise": "surprise", "당황": "surprise",
    "disgust": "disgust", "neutral": "neutral",
}  # fmt: skip
_EMOTIONS = frozenset(CANONICAL.values())


def confidence(scores: Mapping[str, float] | Sequence[float]) -> float:
    """How far a score distribution is from flat, in [0, 1]: 1 - its entropy / log(n).

    0: every label equally likely, the model cannot tell; 1: all on one label. The
    seed's voice model on speech unlike its training data (top 0.19 of 6) gives about
    0.003; a top label at 0.42 of 6 with the rest even gives 0.1.
    """
    values = np.asarray(list(scores.values()) if isinstance(scores, Mapping) else scores, float)
    values = np.clip(values, 0.0, None)
    if len(values) < 2 or not np.all(np.isfinite(values)) or values.sum() <= 0:
        return 0.0  # one label, or no usable numbers: nothing tells one label from another
    p = values / values.sum()
    entropy = -float(np.sum(p[p > 0] * np.log(p[p > 0])))
    return float(min(1.0, max(0.0, 1.0 - entropy / np.log(len(p)))))


def own_or_computed(given: Any, scores: Mapping[str, float]) -> float:
    """A result's confidence: the one its maker gave (clipped to [0, 1]) when it is a
    number, else (None, NaN, missing) ``confidence(scores)``."""
    if isinstance(given, int | float) and not isinstance(given, bool) and np.isfinite(given):
        return min(1.0, max(0.0, float(given)))
    return confidence(scores)


def _get(result: Any, key: str) -> Any:
    return result.get(key) if isinstance(result, Mapping) else getattr(result, key, None)


def confidence_of(result: Any) -> float:
    """The confidence of a result: a ``TextEmotion``/``AudioEmotion``/``Emotion`` or its
    JSON dict (an older one without ``confidence`` too); 0 for None or no scores."""
    if result is None:
        return 0.0
    return own_or_computed(_get(result, "confidence"), _get(result, "scores") or {})


def top_label(result: Any) -> str | None:
    """A result's label: its own ``label`` (the fused one, or a result object's top
    label), else its top score; None without either."""
    if result is None:
        return None
    label = _get(result, "label")
    scores = _get(result, "scores") or {}
    if label is None and scores:
        label = max(scores, key=scores.__getitem__)
    return label


def sure(result: Any) -> bool:
    """Whether a result is there and sure enough to show its label (not ``unsure``)."""
    return (
        result is not None
        and bool(_get(result, "scores"))
        and (confidence_of(result) >= UNSURE_BELOW)
    )


def canonical(label: str) -> str:
    """One name per emotion, whatever the model calls it (HAPPY, joy, 기쁨 -> joy)."""
    return CANONICAL.get(label.lower(), label.lower())


def disagree(text: Any, voice: Any) -> bool:
    """Text and voice name different emotions, and both are sure: the only case the
    displays flag. An unsure side says nothing, so it cannot contradict the other; nor
    can labels of other kinds (a voice's "excited" beside a text's "joy")."""
    if not (sure(text) and sure(voice)):
        return False
    names = canonical(str(top_label(text))), canonical(str(top_label(voice)))
    return names[0] != names[1] and all(name in _EMOTIONS for name in names)
