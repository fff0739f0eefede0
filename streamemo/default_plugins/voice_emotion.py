"""The ``todai-cnn-bilstm`` audio analyser: the seed's voice model over sliding
100-frame MFCC windows, normalised against a neutral baseline (the "delta")."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from streamemo import hookimpl
from streamemo.audio_io import to_float32
from streamemo.errors import ConfigError
from streamemo.events import AudioEmotion
from streamemo.models import resolve_model_dir
from streamemo.voice_model import SAMPLE_RATE, WINDOW_FRAMES, mfcc, windows

WEIGHTS = "pytorch_model.pth"
LABELS = "labels.json"


def load_baseline(folder: Path, baseline: str) -> tuple[np.ndarray, np.ndarray]:
    """``male``/``female`` from the model folder, or a .json/.npz file with ``mean`` and ``std``."""
    if baseline in ("male", "female"):
        mean_file = folder / f"baseline_mean_{baseline}.npy"
        if mean_file.exists():
            return np.load(mean_file), np.load(folder / f"baseline_std_{baseline}.npy")
        data = json.loads((folder / "baselines.json").read_text(encoding="utf-8"))[baseline]
        return np.asarray(data["mean"]), np.asarray(data["std"])
    path = Path(baseline).expanduser()
    if not path.is_file():
        raise ConfigError(
            f"audio.baseline {baseline!r} is neither male, female nor a file: "
            "set -o audio.baseline=male|female|PATH.json"
        )
    if path.suffix == ".npz":
        with np.load(path) as data:
            return data["mean"], data["std"]
    data = json.loads(path.read_text(encoding="utf-8"))
    return np.asarray(data["mean"]), np.asarray(data["std"])


class VoiceEmotion:
    def __init__(
        self,
        model: str = "HyukII/audio-emotion-model",
        baseline: str = "male",
        hop_frames: int = 50,
        device: str = "cpu",
    ):
        import torch

        from streamemo.voice_model import TodaiNet

        if not 1 <= hop_frames <= WINDOW_FRAMES:
            raise ConfigError(f"audio.hop_frames must be 1-{WINDOW_FRAMES}, not {hop_frames}")
        folder = resolve_model_dir(
            model,
            what="audio-emotion model",
            option="audio.model",
            required=(WEIGHTS, LABELS),
            allow_patterns=["*.pth", "*.json", "*.npy"],  # never the hub's model.py
        )
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
        # the first call compiles librosa's numba kernels (~1.5 s): pay it at load, not on speech
        self.window_logits(np.zeros(SAMPLE_RATE, np.float32))

    def window_logits(self, audio: np.ndarray, hop: int | None = None) -> np.ndarray:
        """Logits of every window, (n_windows, n_labels), in one batched forward pass."""
        import torch

        samples = to_float32(audio) if audio.dtype == np.int16 else audio
        batch = (windows(mfcc(samples), hop or self.hop) - self.mean) / self.scale
        with torch.inference_mode():
            x = torch.from_numpy(np.ascontiguousarray(batch.transpose(0, 2, 1), np.float32))
            return self.net(x.to(self.device)).float().cpu().numpy()

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

    def analyse_latest(self, audio: np.ndarray) -> AudioEmotion:
        """Only the newest window: the live estimate while someone is still speaking."""
        return self._emotion(self.window_logits(audio, hop=WINDOW_FRAMES)[-1:])


@hookimpl
def register_audio_analysers(register):
    register("todai-cnn-bilstm", VoiceEmotion)
