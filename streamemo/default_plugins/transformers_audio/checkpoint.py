"""What a speech-emotion checkpoint's folder says, read from its JSON files alone (no torch,
no transformers): found before anything loads, its labels, its sampling rate.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from streamemo.api import SAMPLE_RATE, ConfigError, ModelNotFoundError
from streamemo.model_files import resolve_model_dir

WHAT = "audio-emotion model"
OPTION = "audio.model"
# safetensors first (transformers reads .bin with torch.load(weights_only=True)); never .py
WEIGHTS = (
    "model.safetensors",
    "model.safetensors.index.json",
    "pytorch_model.bin",
    "pytorch_model.bin.index.json",
)
FILES = ["*.json", "*.txt", "*.safetensors", "*.bin"]


def model_folder(model: str) -> Path:
    """The folder of ``model`` (a hub id, a folder, the HF cache, offline mode), or one line."""
    return resolve_model_dir(
        model,
        what=WHAT,
        option=OPTION,
        required=("config.json", "preprocessor_config.json"),
        weights=WEIGHTS,
        allow_patterns=FILES,
    )


def has_safetensors(folder: Path) -> bool:
    return any((folder / name).is_file() for name in WEIGHTS[:2])


def _json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelNotFoundError(
            f"{WHAT} file {str(path)!r} cannot be read ({type(exc).__name__}): "
            f"point -o {OPTION}=DIR at a complete model folder"
        ) from None
    if not isinstance(data, dict):
        raise ModelNotFoundError(f"{WHAT} file {str(path)!r} is not a JSON object")
    return data


def check_extractor(folder: Path, window_s: float) -> None:
    """The audio reaching analysers is 16 kHz: a model made for another rate is refused; a
    window longer than the extractor reads at once (Whisper's 30 s) would be cut short."""
    config = _json(folder / "preprocessor_config.json")
    rate = config.get("sampling_rate", SAMPLE_RATE)
    if rate != SAMPLE_RATE:
        raise ConfigError(
            f"{WHAT} in {str(folder)!r} expects {rate} Hz audio and streamemo gives its "
            f"analysers {SAMPLE_RATE} Hz: choose a {SAMPLE_RATE // 1000} kHz model for -o {OPTION}"
        )
    most = config.get("n_samples")
    if isinstance(most, int) and window_s * SAMPLE_RATE > most:
        most_s = most / SAMPLE_RATE
        raise ConfigError(
            f"audio.window_s is {window_s} s and the {WHAT} in {str(folder)!r} reads at most "
            f"{most_s:g} s at once: set -o audio.window_s={most_s:g} or less"
        )


def model_labels(folder: Path) -> list[str]:
    """config.json's id2label, in id order; generic LABEL_n from label_map.json if any."""
    id2label = _json(folder / "config.json").get("id2label")
    if not isinstance(id2label, Mapping) or not id2label:
        raise ModelNotFoundError(
            f"{WHAT} in {str(folder)!r} has no id2label in its config.json: "
            "it is not a classification checkpoint"
        )
    labels = [str(id2label[key]) for key in sorted(id2label, key=int)]
    if _generic(labels) and (folder / "label_map.json").is_file():
        mapping = _json(folder / "label_map.json").get("id2label", {})
        labels = [str(mapping.get(str(i), label)) for i, label in enumerate(labels)]
    return labels


def _generic(labels: list[str]) -> bool:
    return all(label == f"LABEL_{i}" for i, label in enumerate(labels))


def output_labels(
    folder: Path, labels: list[str], label_map: Mapping[str, str] | None
) -> list[str]:
    """The labels results carry: the model's, renamed by ``label_map`` ({model: output}).

    One name per output label: merging labels is the fuser's ``audio_map`` (balanced
    there, so two labels merged do not read as one confident one)."""
    label_map = dict(label_map or {})
    unknown = [key for key in label_map if key not in labels]
    if unknown:
        raise ConfigError(
            f"audio.label_map names {', '.join(map(repr, unknown))}, not a label of the "
            f"{WHAT} in {str(folder)!r}; its labels: {', '.join(labels)}"
        )
    out = [str(label_map.get(label, label)) for label in labels]
    if len(set(out)) != len(out):
        raise ConfigError(
            "audio.label_map gives two model labels the same name: rename each label once "
            "(merge labels in fuser.audio_map instead)"
        )
    if _generic(out):
        raise ModelNotFoundError(
            f"{WHAT} in {str(folder)!r} has only generic labels (LABEL_0...) and no label map: "
            "set -o 'audio.label_map={LABEL_0=\"neutral\", ...}' or add label_map.json"
        )
    return out


def check_options(window_s: float, hop_s: float, max_batch: int, device: str) -> None:
    if not re.fullmatch(r"auto|cpu|mps|cuda(:\d+)?", device):
        raise ConfigError(f"audio.device must be auto, cpu, cuda, cuda:N or mps, not {device!r}")
    if not 0.1 <= window_s <= 60:
        raise ConfigError(f"audio.window_s must be 0.1-60 seconds, not {window_s}")
    if not 0 < hop_s <= window_s:
        raise ConfigError(
            f"audio.hop_s must be above 0 and at most window_s ({window_s}), not {hop_s}"
        )
    if max_batch < 1:
        raise ConfigError(f"audio.max_batch must be 1 or more, not {max_batch}")
