"""Configuration: the built-in default, a TOML file over it, then ``-o key.sub=value``.

Each stage section (``[source]``, ``[segmenter]``, ``[transcriber]``, ``[text]``,
``[audio]``, ``[fuser]``) names its plugin with ``name``; every other key goes to that
plugin's factory as a keyword argument. ``enabled = false`` switches an analysis off
(its event field is then ``null``). The default is ``streamemo/default.toml``, shipped
in the package; a config file is merged over it, key by key.
"""

from __future__ import annotations

import copy
import logging
import tomllib
from importlib.resources import files
from pathlib import Path
from typing import Any

from streamemo.errors import ConfigError
from streamemo.option_types import show
from streamemo.stages import KINDS

# the stage sections: one per stage kind (sinks are listed apart: "sinks", [sink.NAME])
STAGES = tuple(kind for kind in KINDS if kind != "sink")
# every section a config may hold: [sink.NAME] per sink, [pipeline]
# (streamemo.pipeline_options), [serve] (streamemo.serving)
SECTIONS = (*STAGES, "sinks", "sink", "pipeline", "serve")
# sections under their old names: still read, with a warning
RENAMED = {"fusion": "fuser"}

log = logging.getLogger("streamemo")


def _read_defaults() -> dict[str, Any]:
    text = files("streamemo").joinpath("default.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


# Without --config: English that works offline, with every model shipped on PyPI or in
# this package. Read-only: load_config works on a copy.
DEFAULTS: dict[str, Any] = _read_defaults()


def load_config(path: str | Path | None, overrides: list[str] = ()) -> dict[str, Any]:
    config = copy.deepcopy(DEFAULTS)
    renamed: set[str] = set()
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
        renamed |= _rename_sections(data)
        for stage in STAGES:  # a section naming another plugin replaces the default one
            section = data.get(stage)
            default = config.get(stage, {}).get("name")
            if isinstance(section, dict) and section.get("name", default) != default:
                config[stage] = {}
        _merge(config, data)
    # -o STAGE.name=OTHER first: another plugin starts from an empty section (the one
    # before held the old plugin's options), and the stage's other -o keys go to the new one
    for item in sorted(overrides, key=lambda item: not _names_plugin(item)):
        if _names_plugin(item):
            stage, value = item.split(".", 1)[0].strip(), item.partition("=")[2].strip()
            stage = RENAMED.get(stage, stage)
            if config.get(stage, {}).get("name") != parse_value(value):
                config[stage] = {}
        renamed |= apply_override(config, item)
    for old in sorted(renamed):
        new = RENAMED[old]
        log.warning(
            f"warning: [{old}] is now [{new}]: rename the section (-o {old}.KEY: {new}.KEY)"
        )
    unknown = set(config) - set(SECTIONS)
    if unknown:
        raise ConfigError(
            f"unknown config section(s) {', '.join(sorted(unknown))}: "
            f"valid ones are {', '.join(SECTIONS)}"
        )
    _check_shape(config)
    return config


def _names_plugin(item: str) -> bool:
    """Whether an override is ``-o STAGE.name=...``."""
    stage, _, rest = item.partition("=")[0].strip().partition(".")
    return rest == "name" and RENAMED.get(stage, stage) in STAGES


def _rename_sections(data: dict[str, Any]) -> set[str]:
    """A file's sections under their old names, moved to the new ones; the old names used."""
    used = set()
    for old, new in RENAMED.items():
        if old not in data:
            continue
        if new in data:
            raise ConfigError(
                f"the config has both [{old}] and [{new}]: [{old}] is the old name of [{new}], "
                f"keep only [{new}]"
            )
        data[new] = data.pop(old)
        used.add(old)
    return used


def _check_shape(config: dict[str, Any]) -> None:
    """Tables where tables belong, and a list of sink specs: one line, not a traceback later."""
    for section in SECTIONS:
        if section != "sinks" and section in config and not isinstance(config[section], dict):
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


def apply_override(config: dict, item: str) -> set[str]:
    """Set one ``section.key=value`` in ``config``; the old section names it used."""
    key, sep, raw = item.partition("=")
    if not sep or not key.strip():
        raise ConfigError(
            f"bad override {item!r}: write -o section.key=value, e.g. -o audio.model=DIR"
        )
    path = key.strip().split(".")
    used = set()
    if path[0] in RENAMED:
        used.add(path[0])
        path[0] = RENAMED[path[0]]
    *parents, leaf = path
    node = config
    for part in parents:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise ConfigError(f"bad override {item!r}: {part!r} is not a section")
    node[leaf] = parse_value(raw.strip())
    return used


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
