"""The options a stage factory declares, and checking a config's options against them.

A factory's keyword parameters are its options: their names, defaults and annotated
types (``int``, ``Literal[...]``, ``list[str]``, ``X | None``...) are the whole
declaration. An unknown, missing or mistyped key, or a NaN or infinity, becomes one
``ConfigError`` line naming the key as a user writes it (``transcriber.beam_size``).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from streamemo.errors import ConfigError
from streamemo.option_types import mismatch, non_finite, show


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


def fill_unset(config: dict[str, Any], registry: Any, kind: str, **values: Any) -> None:
    """Set ``values`` in the ``[kind]`` section where the configured plugin's factory
    declares them and the config leaves them unset: a command's own defaults (a batch
    worker's threads) that a user's setting always beats, and that a third-party stage
    without such an option never sees."""
    section = config.setdefault(kind, {})
    entry = registry.entries.get(kind, {}).get(section.get("name"))
    declared = declared_options(entry.factory) if entry is not None else None
    if declared is None:
        return
    for name, value in values.items():
        if name in declared[0] and name not in section:
            section[name] = value


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
