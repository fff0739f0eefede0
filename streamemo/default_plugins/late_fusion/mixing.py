"""Late fusion: project each model's scores onto a shared label space, mix with
weights, optionally project the mix onto the output labels.

A label map is ``{source_label: {target_label: weight}}``; a plain string
means weight 1. Labels a map does not name pass through when the target
space has the same label (case-insensitive) and are dropped otherwise.

Maps are balanced (except in the seed's ``todai`` recipe): a target that several
labels go to gets their mean, not their sum, and a target that none goes to gets
the mean of all, so a flat reading stays flat. Summed, the voice model's FEAR and
ANXIOUS both onto ``fear`` made a model that cannot tell (1/6 each) read as fear 1/3.

Confidence (``by_confidence``, on except in ``todai``): each side's weight is its
configured weight times its confidence, the one its analyser's result carries, taken on
its own labels before any map: a map (balanced or not) changes how a reading is spread,
never how sure it was. A voice that cannot tell then adds (almost) nothing beside words.
The fused result's confidence is that of the fused scores, but never more than the surer
side's: a mix cannot know more than what went in, and the seed's summed matrices, which
make a flat reading not quite flat, do not make it sure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from streamemo.api import (
    AudioEmotion,
    ConfigError,
    Emotion,
    Fuser,
    TextEmotion,
    confidence,
    confidence_of,
)

LabelMap = Mapping[str, str | Mapping[str, float]]


def normalize(v: np.ndarray) -> np.ndarray:
    """The seed's normalisation: clip to [1e-12, 1], divide by the sum."""
    v = np.clip(v, 1e-12, 1.0)
    return v / v.sum()


def balance(matrix: np.ndarray) -> np.ndarray:
    """A projection whose every row is a weighted mean of the sources: rows scaled to sum
    to 1, and a row with no source (a target the map sends nothing to) even over all.
    A flat distribution then projects to a flat one."""
    rows = matrix.sum(axis=1, keepdims=True)
    even = 1.0 / max(matrix.shape[1], 1)
    return np.where(rows > 0, matrix / np.where(rows > 0, rows, 1.0), even)


def projection(
    sources: Sequence[str],
    targets: Sequence[str],
    label_map: LabelMap | None,
    balanced: bool = False,
) -> np.ndarray:
    """The (targets x sources) matrix a label map describes; ``balanced``: see ``balance``."""
    label_map = dict(label_map or {})
    index = {t.lower(): i for i, t in enumerate(targets)}
    matrix = np.zeros((len(targets), len(sources)))
    for j, source in enumerate(sources):
        spec = label_map.pop(source, None)
        if spec is None:
            if source.lower() in index:
                matrix[index[source.lower()], j] = 1.0
            continue
        for target, weight in ({spec: 1.0} if isinstance(spec, str) else spec).items():
            if target.lower() not in index:
                raise ConfigError(
                    f"a fuser map sends {source!r} to {target!r}, which is not one of the labels "
                    f"{', '.join(targets)}: fix the map or fuser.labels"
                )
            matrix[index[target.lower()], j] = float(weight)
    return balance(matrix) if balanced else matrix


class LateFusion(Fuser):
    """Weighted late fusion over label maps; the todai preset is one instance of it."""

    def __init__(
        self,
        labels: Sequence[str],
        weights: Mapping[str, float] | None = None,
        text_map: LabelMap | None = None,
        audio_map: LabelMap | None = None,
        output_labels: Sequence[str] | None = None,
        output_map: LabelMap | None = None,
        method: str = "weighted",
        balanced: bool = True,
        by_confidence: bool = True,
    ):
        if not labels:
            raise ConfigError("fuser.labels is empty: list the labels to fuse onto")
        weights = dict(weights or {"text": 0.5, "audio": 0.5})
        unknown = set(weights) - {"text", "audio"}
        if unknown or any(w < 0 for w in weights.values()):
            raise ConfigError("fuser.weights takes non-negative 'text' and 'audio' weights only")
        self.labels = list(labels)
        self.weights = {"text": weights.get("text", 0.0), "audio": weights.get("audio", 0.0)}
        self.text_map, self.audio_map = text_map, audio_map
        for label_map in (text_map, audio_map):  # a typo in a map fails at start-up
            projection(list(label_map or {}), self.labels, label_map)
        # balanced maps keep a flat reading flat; the seed's recipe sums (todai: False)
        self.balanced = balanced
        self.by_confidence = by_confidence  # weights times each side's confidence
        self.output_labels = list(output_labels) if output_labels else None
        self.output_matrix = (
            projection(self.labels, self.output_labels, output_map, balanced)
            if self.output_labels
            else None
        )
        self.method = method
        self._cache: dict[tuple, np.ndarray] = {}

    def _project(
        self, scores: Mapping[str, float], label_map: LabelMap | None, side: str
    ) -> np.ndarray:
        sources = tuple(scores)
        key = (side, sources)
        if key not in self._cache:
            self._cache[key] = projection(sources, self.labels, label_map, self.balanced)
        vector = normalize(np.array([scores[s] for s in sources], dtype=np.float64))
        return normalize(self._cache[key] @ vector)

    def fuse(self, text: TextEmotion | None, audio: AudioEmotion | None) -> Emotion | None:
        sides = [
            (name, result, label_map)
            for name, result, label_map in (
                ("text", text, self.text_map),
                ("audio", audio, self.audio_map),
            )
            if result is not None
        ]
        if not sides:
            return None  # nothing to fuse: say nothing rather than invent
        sure = [confidence_of(result) for _, result, _ in sides]  # on the side's own labels
        weights = [self.weights[name] for name, _, _ in sides]
        # the most the inputs support: the surer of the sides that count at all
        cap = max((c for c, w in zip(sure, weights, strict=True) if w > 0), default=0.0)
        if self.by_confidence and sum(w * c for w, c in zip(weights, sure, strict=True)) > 0:
            weights = [w * c for w, c in zip(weights, sure, strict=True)]
        # (both sides flat: the configured weights, and a fused result as unsure as they are)
        parts = [
            w * self._project(result.scores, label_map, name)
            for w, (name, result, label_map) in zip(weights, sides, strict=True)
        ]
        mixed = normalize(np.sum(parts, axis=0))
        labels = self.labels
        if self.output_matrix is not None:
            mixed, labels = normalize(self.output_matrix @ mixed), self.output_labels
        best = int(mixed.argmax())
        scores = {label: float(p) for label, p in zip(labels, mixed, strict=True)}
        return Emotion(
            label=labels[best],
            score=float(mixed[best]),
            scores=scores,
            sources=[name for name, _, _ in sides],
            method=self.method,
            confidence=min(confidence(scores), cap),
        )
