"""Loading plugins: built-ins, the ``streamemo`` entry-point group, ``--plugins-dir``.

Built-ins are ordinary plugin modules listed in ``DEFAULT_PLUGINS`` and go
through exactly the same hooks as third-party plugins.

``register(name, factory)`` may also be given ``preflight=check``: a cheap check of the
stage's options that runs before anything loads (``streamemo.preflight``). Without it, a
factory's own ``preflight`` attribute (a classmethod, say) is used, if it has one.
Importing a plugin module should stay cheap too (no torch at import time): every
plugin is imported before the first error can be reported.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pluggy

from streamemo import hookspecs
from streamemo.errors import StreamemoError

DEFAULT_PLUGINS = (
    "streamemo.default_plugins.file_source",
    "streamemo.default_plugins.mic",
    "streamemo.default_plugins.network_source",
    "streamemo.default_plugins.vad_segmenter",
    "streamemo.default_plugins.whisper",
    "streamemo.default_plugins.transformers_text",
    "streamemo.default_plugins.offline_text",
    "streamemo.default_plugins.voice_emotion",
    "streamemo.default_plugins.transformers_audio",
    "streamemo.default_plugins.late_fusion",
    "streamemo.default_plugins.console",
    "streamemo.default_plugins.jsonl_sink",
    "streamemo.default_plugins.diary_sink",
    "streamemo.default_plugins.ws_sink",
)

# stage kind -> the hook that registers it
STAGE_HOOKS = {
    "source": "register_sources",
    "segmenter": "register_segmenters",
    "transcriber": "register_transcribers",
    "text": "register_text_analysers",
    "audio": "register_audio_analysers",
    "fuser": "register_fusers",
    "sink": "register_sinks",
}


class PluginError(StreamemoError):
    """A plugin that cannot be loaded or breaks the hook contract."""


def get_plugin_manager(plugins_dir: str | Path | None = None) -> pluggy.PluginManager:
    pm = pluggy.PluginManager("streamemo")
    pm.add_hookspecs(hookspecs)
    for name in DEFAULT_PLUGINS:
        _register(pm, importlib.import_module(name), name)
    try:
        pm.load_setuptools_entrypoints("streamemo")
    except pluggy.PluginValidationError as exc:
        raise PluginError(f"plugin {exc.plugin_name!r} is invalid: {exc}") from None
    if plugins_dir is not None:
        folder = Path(plugins_dir)
        if not folder.is_dir():  # a typo must not quietly load nothing
            state = "is not a folder" if folder.exists() else "does not exist"
            raise PluginError(
                f"--plugins-dir {str(plugins_dir)!r} {state}: give the folder that holds the "
                "plugin .py files"
            )
        for path in sorted(folder.glob("*.py")):
            _register(pm, _load_file(path), f"{path.parent.name}/{path.name}")
    try:
        pm.check_pending()  # tox-style: a misspelt hook fails now, not silently never runs
    except pluggy.PluginValidationError as exc:
        raise PluginError(f"{exc}; check the spelling against streamemo.hookspecs") from None
    return pm


def _register(pm: pluggy.PluginManager, module: Any, name: str) -> None:
    try:
        pm.register(module, name)
    except pluggy.PluginValidationError as exc:
        raise PluginError(f"plugin {name!r}: {exc}") from None


def _load_file(path: Path) -> Any:
    module_name = f"streamemo_plugins_dir.{path.stem}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise PluginError(f"cannot load plugin file {str(path)!r}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        raise PluginError(f"plugin file {str(path)!r} failed to import: {exc!r}") from None
    return module


@dataclass(slots=True)
class Registration:
    kind: str
    name: str
    factory: Callable[..., Any]
    plugin: str
    preflight: Callable[..., Any] | None = None  # given to register(); else factory.preflight

    @property
    def check(self) -> Callable[..., Any] | None:
        """The stage's cheap start-up check (see ``streamemo.preflight``), if it has one."""
        if self.preflight is not None:
            return self.preflight
        check = getattr(self.factory, "preflight", None)
        return check if callable(check) else None


@dataclass
class Registry:
    """Every stage factory the loaded plugins registered, by kind and name."""

    entries: dict[str, dict[str, Registration]] = field(default_factory=dict)

    @classmethod
    def collect(cls, pm: pluggy.PluginManager) -> Registry:
        """Every ``register_*`` hook called through ``pm.hook``, so pluggy's tracing and
        monitoring see the calls and hook wrappers wrap them. Each registering plugin is
        called on its own (a subset caller without the other registering plugins), with
        a ``register`` that knows whose registrations it takes."""
        registry = cls({kind: {} for kind in STAGE_HOOKS})
        for kind, hook_name in STAGE_HOOKS.items():
            impls = getattr(pm.hook, hook_name).get_hookimpls()
            registering = [impl for impl in impls if not (impl.hookwrapper or impl.wrapper)]
            for impl in registering:
                others = [other.plugin for other in registering if other is not impl]
                caller = pm.subset_hook_caller(hook_name, remove_plugins=others)
                caller(register=registry._register_for(kind, impl.plugin_name))
        return registry

    def _register_for(self, kind: str, plugin: str) -> Callable[..., None]:
        def register(
            name: str, factory: Callable[..., Any], preflight: Callable[..., Any] | None = None
        ) -> None:
            self.add(Registration(kind, name, factory, plugin, preflight))

        return register

    def add(self, entry: Registration) -> None:
        seen = self.entries[entry.kind].get(entry.name)
        if seen is not None and seen.plugin != entry.plugin:
            raise PluginError(
                f"{entry.kind} {entry.name!r} is registered by both {seen.plugin!r} and "
                f"{entry.plugin!r}: rename one of them"
            )
        self.entries[entry.kind][entry.name] = entry

    def get(self, kind: str, name: str) -> Registration:
        try:
            return self.entries[kind][name]
        except KeyError:
            known = ", ".join(sorted(self.entries[kind])) or "none"
            raise PluginError(
                f"no {kind} plugin named {name!r}; available: {known} "
                f"(add one with --plugins-dir or a 'streamemo' entry point)"
            ) from None
