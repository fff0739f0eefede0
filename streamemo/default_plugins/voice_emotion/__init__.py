"""The ``todai-cnn-bilstm`` audio analyser: the seed's voice model over sliding
100-frame MFCC windows, normalised against a neutral baseline (the "delta")."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from streamemo.api import AudioAnalyser, AudioEmotion, ConfigError, hookimpl
from streamemo.default_plugins.voice_emotion.baselines import baseline_file
from streamemo.model_files import resolve_model_dir

# .model (torch) is imported where it is used: loading the plugins, and the
# start-up checks that must be able to fail before anything heavy loads, stay torch-free

WEIGHTS = "pytorch_model.pth"
LABELS = "labels.json"
# the seed's weights (MIT, from HyukII/audio-emotion-model), shipped inside the package
BUNDLED = "pkg:streamemo/bundled_models/todai-audio-v1"


def load_baseline(folder: Path, baseline: str) -> tuple[np.ndarray, np.ndarray]:
    """``male``/``female`` from the model folder, or a .json/.npz file with ``mean`` and
    ``std``: a path, ``personal`` or a stored name (``streamemo calibrate``)."""
    if baseline in ("male", "female"):
        mean_file = folder / f"baseline_mean_{baseline}.npy"
        if mean_file.exists():
            return np.load(mean_file), np.load(folder / f"baseline_std_{baseline}.npy")
        data = json.loads((folder / "baselines.json").read_text(encoding="utf-8"))[baseline]
        return np.asarray(data["mean"]), np.asarray(data["std"])
    path = _baseline_file(baseline)
    if path.suffix == ".npz":
        with np.load(path) as data:
            return data["mean"], data["std"]
    data = json.loads(path.read_text(encoding="utf-8"))
    return np.asarray(data["mean"]), np.asarray(data["std"])


def _baseline_file(baseline: str) -> Path:
    """``personal``, a file, or a baseline stored by name (see .baselines)."""
    return baseline_file(baseline)


def model_folder(model: str) -> Path:
    """The folder holding the weights and labels that ``model`` names."""
    return resolve_model_dir(
        model,
        what="audio-emotion model",
        option="audio.model",
        required=(WEIGHTS, LABELS),
        allow_patterns=["*.pth", "*.json", "*.npy"],  # never the hub's model.py
    )


class VoiceEmotion(AudioAnalyser):
    def __init__(
        self,
        model: str = BUNDLED,
        baseline: str = "male",
        hop_frames: int = 50,
        device: str = "cpu",
    ):
        import torch

        from streamemo.default_plugins.voice_emotion.model import WINDOW_FRAMES, TodaiNet

        if not 1 <= hop_frames <= WINDOW_FRAMES:
            raise ConfigError(f"audio.hop_frames must be 1-{WINDOW_FRAMES}, not {hop_frames}")
        folder = model_folder(model)
        self.name = model
        self.hop = hop_frames
        self.labels: list[str] = json.loads((folder / LABELS).read_text(encoding="utf-8"))
        mean, std = load_baseline(folder, baseline)
        if mean.shape != (13,) or std.shape != (13,):
            raise ConfigError(f"baseline {baseline!r} must hold 13 means and 13 stds")
        self.mean = mean.astype(np.float32)
        self.scale = (std + 1e-8).astype(np.float32)  # the seed's delta denominator
        self.device = torch.device(device)
        self.net = TodaiNet(len(self.labels))
        state = torch.load(folder / WEIGHTS, map_location="cpu", weights_only=True)
        self.net.load_state_dict(state)
        self.net.to(self.device).eval()

    @classmethod
    def preflight(cls, *, model: str, baseline: str, **_options: Any) -> None:
        """Before anything loads: the model folder and the baseline are found."""
        folder = model_folder(model)
        if baseline not in ("male", "female"):
            _baseline_file(baseline)
        elif not any(
            (folder / name).is_file()
            for name in (f"baseline_mean_{baseline}.npy", "baselines.json")
        ):
            raise ConfigError(
                f"audio-emotion model folder {str(folder)!r} has no {baseline} baseline "
                f"(baseline_mean_{baseline}.npy or baselines.json): set -o audio.baseline=PATH.json"
            )

    def window_logits_many(
        self, audios: Sequence[np.ndarray], latest: bool = False
    ) -> list[np.ndarray]:
        """Logits of every window of each utterance, (n_windows, n_labels) each, with the
        windows of all utterances in one forward pass; ``latest``: only the last window."""
        import torch

        from streamemo.default_plugins.voice_emotion.model import WINDOW_FRAMES, mfcc_many, windows

        if not audios:
            return []
        if latest:  # the last 100 frames: the hop-100 windows' last one, alone
            per_utt = [windows(f[-WINDOW_FRAMES:], WINDOW_FRAMES) for f in mfcc_many(audios)]
        else:
            per_utt = [windows(f, self.hop) for f in mfcc_many(audios)]
        batch = (np.concatenate(per_utt) - self.mean) / self.scale
        with torch.inference_mode():
            x = torch.from_numpy(np.ascontiguousarray(batch.transpose(0, 2, 1), np.float32))
            logits = self.net(x.to(self.device)).float().cpu().numpy()
        return np.split(logits, np.cumsum([len(w) for w in per_utt])[:-1])

    def window_logits(self, audio: np.ndarray) -> np.ndarray:
        """Logits of every window of one utterance, (n_windows, n_labels)."""
        return self.window_logits_many([audio])[0]

    def _emotion(self, logits: np.ndarray) -> AudioEmotion:
        shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
        probs = (shifted / shifted.sum(axis=1, keepdims=True)).mean(axis=0)
        return AudioEmotion(
            scores={label: float(p) for label, p in zip(self.labels, probs, strict=True)},
            windows=len(logits),
            model=self.name,
        )

    def analyse(self, audio: np.ndarray) -> AudioEmotion:
        """Every window of the utterance, mean of their probabilities."""
        return self._emotion(self.window_logits(audio))

    def analyse_many(self, audios: Sequence[np.ndarray]) -> list[AudioEmotion]:
        """``analyse`` of each utterance, with the work of all of them batched."""
        return [self._emotion(logits) for logits in self.window_logits_many(audios)]

    def analyse_latest(self, audio: np.ndarray) -> AudioEmotion:
        """Only the newest window: the live estimate while someone is still speaking."""
        return self._emotion(self.window_logits_many([audio], latest=True)[0])


@hookimpl
def register_audio_analysers(register):
    register("todai-cnn-bilstm", VoiceEmotion)
