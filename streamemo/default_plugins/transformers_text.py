"""The ``transformers`` text analyser: any sequence-classification model, hub id or folder."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from streamemo.api import ModelNotFoundError, TextAnalyser, TextEmotion, hookimpl
from streamemo.model_files import resolve_model_dir
from streamemo.sentences import check_aggregate, sentence_emotion, sentence_emotions


class TransformersTextEmotion(TextAnalyser):
    def __init__(
        self,
        model: str,
        max_length: int = 256,
        aggregate: str = "share",
        device: str = "cpu",
        batch_size: int = 16,
    ):
        import torch
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        self.aggregate = check_aggregate(aggregate)
        folder = _model_folder(model)
        self.name = model
        self.max_length = max_length
        self.batch_size = batch_size
        self.device = torch.device(device)
        self.tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
        self.model = (
            AutoModelForSequenceClassification.from_pretrained(
                folder, local_files_only=True, trust_remote_code=False
            )
            .to(self.device)
            .eval()
        )
        self.labels = _labels(self.model.config.id2label, folder)

    @classmethod
    def preflight(cls, *, model: str, aggregate: str, **_options: Any) -> None:
        """Before anything loads: the model is found and ``aggregate`` is known."""
        check_aggregate(aggregate)
        _model_folder(model)

    def predict(self, sentences: list[str]) -> np.ndarray:
        import torch

        out = []
        with torch.inference_mode():
            for i in range(0, len(sentences), self.batch_size):
                batch = self.tokenizer(
                    sentences[i : i + self.batch_size],
                    truncation=True,
                    max_length=self.max_length,
                    padding=True,
                    return_tensors="pt",
                ).to(self.device)
                out.append(torch.softmax(self.model(**batch).logits.float(), dim=-1).cpu().numpy())
        return np.concatenate(out)

    def analyse(self, text: str) -> TextEmotion | None:
        return sentence_emotion(text, self.predict, self.labels, self.aggregate, self.name)

    def analyse_many(self, texts: list[str]) -> list[TextEmotion | None]:
        """Every sentence of every text, in batches of ``batch_size``."""
        return sentence_emotions(texts, self.predict, self.labels, self.aggregate, self.name)


def _model_folder(model: str) -> Path:
    return resolve_model_dir(
        model,
        what="text-emotion model",
        option="text.model",
        required=("config.json",),
        # weights in safetensors or PyTorch form, never remote code
        allow_patterns=["*.json", "*.txt", "*.model", "*.safetensors", "*.bin"],
    )


def _labels(id2label: dict, folder) -> list[str]:
    """config.json's id2label is authoritative; generic LABEL_n falls back to label_map.json."""
    labels = [id2label[i] for i in sorted(id2label)]
    if all(label == f"LABEL_{i}" for i, label in enumerate(labels)):
        label_map = folder / "label_map.json"
        if label_map.exists():
            mapping = json.loads(label_map.read_text(encoding="utf-8"))["id2label"]
            labels = [mapping[str(i)] for i in range(len(labels))]
        else:
            raise ModelNotFoundError(
                f"text-emotion model in {str(folder)!r} has only generic labels (LABEL_0...) "
                "and no label_map.json: add id2label to its config.json"
            )
    return labels


@hookimpl
def register_text_analysers(register):
    register("transformers", TransformersTextEmotion)
