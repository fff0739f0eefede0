"""The start-up check of every built stage against its contract (``streamemo.stages``).

``conform(kind, stage, where)`` runs before audio flows. A missing method, one that
cannot take the arguments the engine passes, or a capability of the wrong type is one
line naming the stage and the method (``PluginError``), instead of an error per
utterance on a worker thread. A stage that subclasses its base class is returned as it
is; a duck-typed one is wrapped in a thin adapter that subclasses the base, delegates to
it and supplies the defaults it lacks, so the engine reads every capability as a plain
attribute.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any

from streamemo.plugins import PluginError
from streamemo.stages import BASES

EVENT_TYPES = frozenset({"utterance", "partial", "status", "level"})

# kind -> method -> the arguments the engine passes (their names, for the message)
REQUIRED: dict[str, dict[str, tuple[str, ...]]] = {
    "source": {"blocks": (), "stop": ()},
    "segmenter": {"feed": ("block",), "flush": ()},
    "transcriber": {"transcribe": ("audio",)},
    "text": {"analyse": ("text",)},
    "audio": {"analyse": ("audio",)},
    "fuser": {"fuse": ("text", "audio")},
    "sink": {"write": ("event",)},
}
OPTIONAL: dict[str, dict[str, tuple[str, ...]]] = {
    "transcriber": {
        "transcribe_many": ("audios",),
        "transcribe_draft": ("audio",),
        "transcribe_span": ("span",),
        "transcribe_span_many": ("spans",),
    },
    "text": {"analyse_many": ("texts",)},
    "audio": {"analyse_latest": ("audio",), "analyse_many": ("audios",)},
    "sink": {"close": ()},
}


def _is_bool(value: Any) -> bool:
    return isinstance(value, bool) or type(value).__name__ == "bool_"  # numpy's too


def _check_event_types(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str | bytes) or not isinstance(value, frozenset | set | tuple | list):
        return f"must be None or a frozenset of event types, not {value!r}"
    unknown = sorted(str(t) for t in value if t not in EVENT_TYPES)
    if unknown:
        known = ", ".join(sorted(EVENT_TYPES))
        return f"names unknown event types {', '.join(unknown)} (known: {known})"
    return None


def _check_counters(value: Any) -> str | None:
    if isinstance(value, Mapping):
        return None
    return f"must be a dict of counts, not {type(value).__name__}"


# kind -> attribute -> a check returning what is wrong, or None
CAPABILITIES: dict[str, dict[str, Callable[[Any], str | None]]] = {
    "source": {
        "name": lambda v: (
            None if isinstance(v, str) and v else f"must be a non-empty str, not {v!r}"
        ),
        "live": lambda v: (
            None if v is None or _is_bool(v) else f"must be True, False or None, not {v!r}"
        ),
        "reads_files": lambda v: None if _is_bool(v) else f"must be True or False, not {v!r}",
        "counters": _check_counters,
    },
    "segmenter": {
        "speaking": lambda v: None if _is_bool(v) else f"must be True or False, not {v!r}",
    },
    "transcriber": {
        "num_workers": lambda v: (
            None
            if isinstance(v, int) and not isinstance(v, bool) and v >= 1
            else f"must be a whole number, at least 1, not {v!r}"
        ),
    },
    "sink": {"event_types": _check_event_types},
}


def problems(kind: str, stage: object) -> list[str]:
    """Every way ``stage`` breaks the contract of ``kind``, one short phrase each."""
    found: list[str] = []
    for method, args in REQUIRED[kind].items():
        found += _check_method(stage, method, args, required=True)
    for method, args in OPTIONAL.get(kind, {}).items():
        found += _check_method(stage, method, args, required=False)
    for attr, check in CAPABILITIES.get(kind, {}).items():
        try:
            value = getattr(stage, attr)
        except AttributeError:
            continue  # not declared: the default applies
        except Exception as exc:  # a property that raises
            found.append(f"reading {attr} raised {type(exc).__name__}: {exc}")
            continue
        if (wrong := check(value)) is not None:
            found.append(f"{attr} {wrong}")
    return found


def _check_method(
    stage: object, method: str, args: tuple[str, ...], *, required: bool
) -> list[str]:
    wanted = f"{method}({', '.join(args)})"
    try:
        fn = getattr(stage, method)
    except AttributeError:
        return [f"no method {wanted}"] if required else []
    if inspect.isclass(stage):  # a factory class, before it is built: its plain functions
        if method in getattr(stage, "__abstractmethods__", ()):
            return [f"no method {wanted}"]
        static = inspect.getattr_static(stage, method)
        if not inspect.isfunction(static):
            return []  # a staticmethod, a property, a descriptor: known once built
        args = ("self", *args)
    if not callable(fn):
        return [f"{method} is a {type(fn).__name__}, not a method {wanted}"]
    if inspect.iscoroutinefunction(fn):
        return [f"{wanted} is async; the engine calls it from a plain thread"]
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):  # a builtin without a signature: nothing to check
        return []
    try:
        signature.bind(*[object()] * len(args))
    except TypeError:
        return [f"method {method}{signature} cannot be called as {wanted}"]
    return []


def check_factory(kind: str, factory: object, where: str) -> None:
    """A stage class's methods checked before it is built (``PluginError``, one line), so
    that a stage built in the background fails before audio flows, not once loaded. A
    factory that is not a class is checked by ``conform`` alone, once built; so is a
    method a class sets on its instances (define it on the class to have it seen here)."""
    if not inspect.isclass(factory):
        return
    found: list[str] = []
    dynamic = "__getattr__" in dir(factory)  # methods it makes up as it goes: not here
    for method, args in REQUIRED[kind].items():
        if not dynamic or hasattr(factory, method):
            found += _check_method(factory, method, args, required=True)
    for method, args in OPTIONAL.get(kind, {}).items():
        found += _check_method(factory, method, args, required=False)
    if kind == "source" and "reads_files" in vars(factory):
        if (wrong := CAPABILITIES["source"]["reads_files"](factory.reads_files)) is not None:
            found.append(f"reads_files {wrong}")
    if found:
        raise _error(kind, where, found)


def _error(kind: str, where: str, found: list[str]) -> PluginError:
    name = BASES[kind].__name__
    return PluginError(
        f"{where}: {'; '.join(found)} (the contract: streamemo.api.{name}, docs/plugins/{kind}.md)"
    )


def conform(kind: str, stage: object, where: str) -> object:
    """``stage`` checked against the contract of ``kind`` (``PluginError``, one line,
    if it breaks it): itself when it subclasses the base class, else an adapter."""
    base = BASES[kind]
    if found := problems(kind, stage):
        raise _error(kind, where, found)
    if isinstance(stage, base):
        return stage
    return _adapter_class(kind)(stage)


class _Adapter:
    """Delegates every attribute, read or set, to the wrapped duck-typed stage."""

    def __init__(self, stage: object):
        object.__setattr__(self, "_stage", stage)

    def __getattr__(self, name: str) -> Any:  # only for what the class does not define
        if name == "_stage":
            raise AttributeError(name)
        return getattr(self._stage, name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._stage, name, value)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} of {self._stage!r}>"

    @property
    def wrapped(self) -> object:
        """The plugin's own object."""
        return self._stage


def _delegate(name: str, default: Callable[..., Any] | None) -> Callable[..., Any]:
    def method(self: _Adapter, *args: Any) -> Any:
        own = getattr(self._stage, name, None)
        if own is None and default is not None:
            return default(self, *args)  # the base class's default, through the adapter
        return own(*args)

    method.__name__ = name
    return method


def _default_attr(name: str, default: Any) -> property:
    return property(lambda self: getattr(self._stage, name, default))


_ADAPTERS: dict[str, type] = {}


def _adapter_class(kind: str) -> type:
    if kind not in _ADAPTERS:
        base = BASES[kind]
        namespace: dict[str, Any] = {"__module__": __name__}
        for method in REQUIRED[kind]:
            namespace[method] = _delegate(method, None)
        for method in OPTIONAL.get(kind, {}):
            namespace[method] = _delegate(method, getattr(base, method))
        for attr in CAPABILITIES.get(kind, {}):
            namespace[attr] = _default_attr(attr, getattr(base, attr))
        _ADAPTERS[kind] = type(base)(f"{base.__name__}Adapter", (_Adapter, base), namespace)
    return _ADAPTERS[kind]
