"""The ``transformers`` audio analyser: any ``AutoModelForAudioClassification`` checkpoint
(wav2vec2, HuBERT, WavLM, Whisper-encoder emotion fine-tunes) with its feature extractor,
by hub id, folder or the HF cache, over sliding windows of each utterance.

An utterance is cut into ``window_s`` windows every ``hop_s`` (the last one flush with the
end); its scores are the mean of the windows' softmaxes. The windows of every utterance
waiting together go through the model in one forward pass (``max_batch`` windows at most).
A partial reads the newest window only. No code from the model's folder ever runs.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any

import numpy as np

from streamemo.api import (
    SAMPLE_RATE,
    AudioAnalyser,
    AudioEmotion,
    ModelNotFoundError,
    hookimpl,
)
from streamemo.default_plugins.transformers_audio import checkpoint, windows

# torch and transformers are imported where the model loads: loading the plugins and
# the start-up checks stay light (a missing model is reported before seconds of imports)

DEFAULT_MODEL = "superb/wav2vec2-base-superb-er"  # Apache-2.0; neu, hap, ang, sad (IEMOCAP)


class TransformersVoiceEmotion(AudioAnalyser):
    def __init__(
        self,
        model: str = DEFAULT_MODEL,
        window_s: float = 4.0,
        hop_s: float = 2.0,
        label_map: dict[str, str] | None = None,
        device: str = "auto",
        max_batch: int = 16,
    ):
        checkpoint.check_options(window_s, hop_s, max_batch, device)
        folder = checkpoint.model_folder(model)
        checkpoint.check_extractor(folder, window_s)
        self.labels = checkpoint.output_labels(folder, checkpoint.model_labels(folder), label_map)
        self.name = model
        self.window = round(window_s * SAMPLE_RATE)
        self.hop = round(hop_s * SAMPLE_RATE)
        self.max_batch = max_batch

        import torch
        from transformers import AutoFeatureExtractor, AutoModelForAudioClassification

        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        self.device = torch.device(device)
        safetensors = checkpoint.has_safetensors(folder)
        try:
            self.extractor = AutoFeatureExtractor.from_pretrained(
                folder, local_files_only=True, trust_remote_code=False
            )
            self.model = AutoModelForAudioClassification.from_pretrained(
                folder,
                local_files_only=True,
                trust_remote_code=False,
                use_safetensors=True if safetensors else None,
            )
        except ValueError as exc:
            if "trust_remote_code" not in str(exc):
                raise
            # an architecture that only the folder's own code defines
            raise ModelNotFoundError(
                f"{checkpoint.WHAT} in {str(folder)!r} cannot be loaded without running code "
                f"from its folder, which streamemo never does ({_first_line(exc)}): "
                f"choose a checkpoint of a built-in architecture for -o {checkpoint.OPTION}"
            ) from None
        self.model.to(self.device).eval()
        if self.model.config.num_labels != len(self.labels):
            raise ModelNotFoundError(
                f"{checkpoint.WHAT} in {str(folder)!r}: its config's id2label has "
                f"{len(self.labels)} labels and its head {self.model.config.num_labels}"
            )
        takes = inspect.signature(self.model.forward).parameters
        self._inputs = set(takes)
        # windows of different lengths share a pass where padding is masked, or where the
        # extractor pads every input to one size anyway (Whisper's 30 s); else one per length
        masked = bool(getattr(self.extractor, "return_attention_mask", False))
        masked = masked and "attention_mask" in takes
        self.mixed = masked or isinstance(getattr(self.extractor, "n_samples", None), int)
        self._padding = {"padding": "longest"} if masked else {}

    @classmethod
    def preflight(
        cls,
        *,
        model: str,
        window_s: float,
        hop_s: float,
        label_map: dict[str, str] | None,
        max_batch: int,
        device: str,
        **_options: Any,
    ) -> None:
        """Before anything loads: the folder is found, its labels and rate fit the options."""
        checkpoint.check_options(window_s, hop_s, max_batch, device)
        folder = checkpoint.model_folder(model)
        checkpoint.check_extractor(folder, window_s)
        checkpoint.output_labels(folder, checkpoint.model_labels(folder), label_map)

    def probabilities(self, chunks: Sequence[np.ndarray]) -> np.ndarray:
        """(len(chunks), labels): each window's softmax, in as few forward passes as
        ``max_batch`` and the model's masking allow."""
        import torch

        out = np.zeros((len(chunks), len(self.labels)), dtype=np.float64)
        for batch in windows.batches(chunks, self.max_batch, self.mixed):
            features = self.extractor(
                [chunks[i] for i in batch],
                sampling_rate=SAMPLE_RATE,
                return_tensors="pt",
                **self._padding,
            )
            inputs = {k: v.to(self.device) for k, v in features.items() if k in self._inputs}
            with torch.inference_mode():
                logits = self.model(**inputs).logits.float()
            out[batch] = torch.softmax(logits, dim=-1).cpu().numpy()
        return out

    def _emotion(self, probs: np.ndarray) -> AudioEmotion:
        mean = probs.mean(axis=0)
        mean = mean / mean.sum()
        return AudioEmotion(
            scores={label: float(p) for label, p in zip(self.labels, mean, strict=True)},
            windows=len(probs),
            model=self.name,
        )

    def analyse_many(self, audios: Sequence[np.ndarray]) -> list[AudioEmotion]:
        """Every window of every utterance, batched; each utterance the mean of its windows."""
        per_utterance = [windows.cut(audio, self.window, self.hop) for audio in audios]
        if not per_utterance:
            return []
        probs = self.probabilities([w for cut in per_utterance for w in cut])
        bounds = np.cumsum([len(cut) for cut in per_utterance])[:-1]
        return [self._emotion(part) for part in np.split(probs, bounds)]

    def analyse(self, audio: np.ndarray) -> AudioEmotion:
        return self.analyse_many([audio])[0]

    def analyse_latest(self, audio: np.ndarray) -> AudioEmotion:
        """The newest window only: the live reading while someone is still speaking."""
        return self._emotion(self.probabilities([windows.to_float(audio[-self.window :])]))


def _first_line(exc: BaseException) -> str:
    text = next((line.strip() for line in str(exc).splitlines() if line.strip()), "")
    return text if len(text) <= 160 else text[:159] + "…"


@hookimpl
def register_audio_analysers(register):
    register("transformers", TransformersVoiceEmotion)
