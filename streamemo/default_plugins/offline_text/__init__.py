"""The ``offline-en`` text analyser: English text emotion with no model hub at all.

It runs on resources that install from PyPI (see ``classifier.py``).
"""

from __future__ import annotations

from typing import Any

from streamemo.api import TextAnalyser, TextEmotion, hookimpl
from streamemo.default_plugins.offline_text.encoder import ENCODER, encoder_folder
from streamemo.sentences import check_aggregate, sentence_emotion, sentence_emotions


class OfflineTextEmotion(TextAnalyser):
    def __init__(self, model: str = ENCODER, aggregate: str = "mean"):
        from streamemo.default_plugins.offline_text.classifier import OfflineEmotionClassifier

        self.aggregate = check_aggregate(aggregate)
        self.name = f"offline-en ({model})"
        self.classifier = OfflineEmotionClassifier.load(model)
        self.labels = list(self.classifier.labels)

    @classmethod
    def preflight(cls, *, model: str, aggregate: str, **_options: Any) -> None:
        """Before anything loads: the encoder is found and ``aggregate`` is known."""
        check_aggregate(aggregate)
        encoder_folder(model)

    def analyse(self, text: str) -> TextEmotion | None:
        return sentence_emotion(
            text, self.classifier.predict, self.labels, self.aggregate, self.name
        )

    def analyse_many(self, texts: list[str]) -> list[TextEmotion | None]:
        """Every sentence of every text in one batch."""
        return sentence_emotions(
            texts, self.classifier.predict, self.labels, self.aggregate, self.name
        )


@hookimpl
def register_text_analysers(register):
    register("offline-en", OfflineTextEmotion)
