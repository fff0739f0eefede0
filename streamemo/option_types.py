"""Checking an option's value against its declared type (a factory parameter's annotation).

Config values come from TOML, so they are ``bool``, ``int``, ``float``, ``str``, lists
and tables (dicts). The checks are the ones a user can act on: ``true`` is not an
integer, ``"banana"`` is not a number, ``nan`` and ``inf`` are no option's value. A type
this module cannot judge (a class such as ``Path``, a ``TypeVar``, an annotation that
did not evaluate) accepts anything: a declaration is never refused for being unusual.
"""

from __future__ import annotations

import collections.abc as abc
import math
import types
import typing
from typing import Any

# (one, many): "beam_size must be an integer", "labels must be a list of strings"
_NOUNS: dict[type, tuple[str, str]] = {
    bool: ("true or false", "true/false values"),
    int: ("an integer", "integers"),
    float: ("a number", "numbers"),
    str: ("a string", "strings"),
    list: ("a list", "lists"),
    tuple: ("a list", "lists"),
    dict: ("a table", "tables"),
}
_SEQUENCES = (list, tuple, set, frozenset, abc.Sequence, abc.MutableSequence, abc.Collection,
              abc.Iterable, abc.Set, abc.MutableSet)  # fmt: skip
_MAPPINGS = (dict, abc.Mapping, abc.MutableMapping)


def show(value: Any) -> str:
    """A value as a user wrote it: ``true``, ``'banana'``, ``nan``, ``[1, 2]``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    text = repr(value)
    return text if len(text) <= 60 else text[:59] + "…"


def non_finite(value: Any, path: str) -> tuple[str, float] | None:
    """The key path and value of a NaN or infinity anywhere in ``value`` (tables, lists),
    or None."""
    if isinstance(value, float) and not math.isfinite(value):
        return path, value
    if isinstance(value, dict):
        items = ((f"{path}.{k}", v) for k, v in value.items())
    elif isinstance(value, list | tuple):
        items = ((f"{path}[{i}]", v) for i, v in enumerate(value))
    else:
        return None
    for sub, item in items:
        if (found := non_finite(item, sub)) is not None:
            return found
    return None


def mismatch(value: Any, hint: Any, path: str) -> tuple[str, str, Any] | None:
    """Where ``value`` breaks ``hint``: (key path, what was expected, the bad value), or None.

    Inside a table or list, the innermost bad item is named: ``fusion.weights.text``.
    """
    if _judgeable(hint) and not _matches(value, hint):
        return _deepest(value, hint, path)
    return None


def describe(hint: Any, plural: bool = False) -> str:
    """What a value of ``hint`` is, in words: "an integer", "one of 'auto', 'never'"."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is None or hint is type(None):
        return "nothing"
    if origin is typing.Literal:
        return ("one of " if len(args) > 1 else "") + ", ".join(show(a) for a in args)
    if _is_union(hint):
        words = [describe(a, plural) for a in args if a is not type(None)]
        return " or ".join(dict.fromkeys(words)) or "nothing"
    base = origin or hint
    if base in _MAPPINGS:
        noun = _NOUNS[dict][1 if plural else 0]
        return f"{noun} of {describe(args[1], True)}" if len(args) == 2 else noun
    if base in _SEQUENCES:
        noun = _NOUNS[list][1 if plural else 0]
        item = args[0] if len(args) == 1 or (len(args) == 2 and args[1] is Ellipsis) else None
        return f"{noun} of {describe(item, True)}" if item is not None else noun
    if isinstance(base, type) and base in _NOUNS:
        return _NOUNS[base][1 if plural else 0]
    return getattr(hint, "__name__", str(hint))


def _is_union(hint: Any) -> bool:
    return typing.get_origin(hint) in (typing.Union, types.UnionType)


def _judgeable(hint: Any) -> bool:
    """Whether this module can say a value does not fit ``hint`` (else: anything fits)."""
    if hint is None or hint is type(None):
        return True
    origin = typing.get_origin(hint)
    if origin is typing.Literal:
        return True
    if _is_union(hint):
        return all(_judgeable(a) for a in typing.get_args(hint))
    base = origin or hint
    return base in _NOUNS or base in _SEQUENCES or base in _MAPPINGS


def _matches(value: Any, hint: Any) -> bool:
    if not _judgeable(hint):
        return True
    if hint is None or hint is type(None):
        return value is None
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is typing.Literal:  # True is not 1, 1.0 is not 1: same type and value
        return any(type(value) is type(a) and value == a for a in args)
    if _is_union(hint):
        return any(_matches(value, a) for a in args)
    base = origin or hint
    if base is bool:
        return isinstance(value, bool)
    if base is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if base is float:  # an integer is a number too
        return isinstance(value, int | float) and not isinstance(value, bool)
    if base is str:
        return isinstance(value, str)
    if base in _MAPPINGS:
        if not isinstance(value, dict):
            return False
        if len(args) != 2:
            return True
        return all(_matches(k, args[0]) and _matches(v, args[1]) for k, v in value.items())
    if base in _SEQUENCES:  # TOML arrays are lists; a string is not a list of strings
        if not isinstance(value, list | tuple):
            return False
        return all(_matches(item, hint_) for item, hint_ in _items(value, args))
    return True


def _items(value: list | tuple, args: tuple) -> list[tuple[Any, Any]]:
    """Each item with its expected type: ``list[X]``, ``tuple[X, ...]``, ``tuple[X, Y]``."""
    if not args:
        return []
    if len(args) == 1 or (len(args) == 2 and args[1] is Ellipsis):
        return [(item, args[0]) for item in value]
    if len(value) != len(args):
        return [(value, None)]  # the wrong length: never matches None
    return list(zip(value, args, strict=True))


def _deepest(value: Any, hint: Any, path: str) -> tuple[str, str, Any]:
    """The innermost item that breaks ``hint`` (``value`` itself does)."""
    arm = hint
    if _is_union(hint):  # one arm of the right kind (a table, a list): look inside it
        kinds = [a for a in typing.get_args(hint) if _same_kind(value, a)]
        if len(kinds) != 1:
            return path, describe(hint), value
        arm = kinds[0]
    base, args = typing.get_origin(arm) or arm, typing.get_args(arm)
    if base in _MAPPINGS and isinstance(value, dict) and len(args) == 2:
        for k, v in value.items():
            if not _matches(k, args[0]):
                return f"{path}.{k}", f"a key that is {describe(args[0])}", k
            if not _matches(v, args[1]):
                return _deepest(v, args[1], f"{path}.{k}")
    if base in _SEQUENCES and isinstance(value, list | tuple):
        for i, (item, item_hint) in enumerate(_items(value, args)):
            if item_hint is None:
                break
            if not _matches(item, item_hint):
                return _deepest(item, item_hint, f"{path}[{i}]")
    return path, describe(hint), value


def _same_kind(value: Any, hint: Any) -> bool:
    base = typing.get_origin(hint) or hint
    if base in _MAPPINGS:
        return isinstance(value, dict)
    if base in _SEQUENCES:
        return isinstance(value, list | tuple)
    return False
