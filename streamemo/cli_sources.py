"""The source a ``streamemo run`` reads, as the command line picks it, and ``streamemo
devices``. Nothing here knows a plugin by name: it asks the registered source factories.

- ``--input FILE`` goes, as ``input=FILE``, to the configured source when it reads files
  (its factory has ``reads_files = True``), else to the one source plugin that does
  (several: choose with ``-o source.name=NAME``).
- Without ``--input`` the configured source is used; one that reads files but has no
  ``input`` in the config gives way to the built-in default source (``[source]`` of
  streamemo/default.toml).
- ``--device`` and ``--realtime`` go to the chosen source as ``device=`` and
  ``realtime=True``, when its factory takes them; else they are an error.
- ``streamemo devices`` lists what every source factory with a ``devices()`` method
  returns: rows of columns (dicts), each with ``name`` and ``default`` (a bool).
"""

from __future__ import annotations

from typing import Any

from streamemo.config import DEFAULTS
from streamemo.errors import ConfigError, InputError, StreamemoError
from streamemo.factory_options import declared_options
from streamemo.plugins import Registration, Registry


def reads_files(entry: Registration | None) -> bool:
    return entry is not None and getattr(entry.factory, "reads_files", False) is True


def takes(entry: Registration, key: str) -> bool:
    """Whether the factory takes the option ``key`` (or any key: ``**options``)."""
    declared = declared_options(entry.factory)
    return declared is None or key in declared[0] or declared[1]


def choose_source(
    config: dict[str, Any],
    registry: Registry,
    *,
    input: str | None = None,
    device: str | None = None,
    realtime: bool = False,
) -> dict[str, Any]:
    """Point ``config["source"]`` at the source the command line asks for; returns the
    options the command line adds to its section."""
    sources = registry.entries.get("source", {})
    section = config.get("source") or {}
    entry = sources.get(section.get("name"))  # unknown: the start-up check says so
    if input is not None and not reads_files(entry):
        readers = sorted(name for name, e in sources.items() if reads_files(e))
        if not readers:
            raise ConfigError("--input: no source plugin reads files (declares reads_files)")
        if len(readers) > 1:
            raise ConfigError(
                f"--input: several sources read files ({', '.join(readers)}): "
                "choose one with -o source.name=NAME"
            )
        entry = sources[readers[0]]
        config["source"] = {"name": entry.name}  # the other source's options are not its
    elif input is None and reads_files(entry) and "input" not in section:
        default = DEFAULTS["source"]
        if default.get("name") == entry.name or reads_files(sources.get(default.get("name"))):
            raise InputError(f"source {entry.name!r} reads files: pass --input FILE")
        entry = sources.get(default["name"])
        config["source"] = dict(default)
    options: dict[str, Any] = {}
    if entry is None:
        return options
    for flag, key, value in (
        ("--input", "input", input),
        ("--device", "device", device),
        ("--realtime", "realtime", True if realtime else None),
    ):
        if value is None:
            continue
        if not takes(entry, key):
            raise ConfigError(f"{flag}: source {entry.name!r} takes no {key}")
        options[key] = value
    return options


def device_table(registry: Registry) -> list[str]:
    """The lines of ``streamemo devices``: a table per source that lists devices (headed
    by its name when there are several), ``*`` marking each one's default. A source that
    cannot list its devices is one line among the others; when all fail, the first
    one's error is raised."""
    listers = [
        (name, entry.factory.devices)
        for name, entry in sorted(registry.entries.get("source", {}).items())
        if callable(getattr(entry.factory, "devices", None))
    ]
    lines: list[str] = []
    failures: list[StreamemoError] = []
    for name, devices in listers:
        if len(listers) > 1:
            lines.append(f"source {name!r}:")
        try:
            rows = devices()
        except StreamemoError as exc:
            failures.append(exc)
            lines.append(f"  cannot list them: {exc}")
            continue
        lines += _table(rows) if rows else ["  no devices found"]
    if failures and len(failures) == len(listers):
        raise failures[0]
    return lines


def _table(rows: list[dict[str, Any]]) -> list[str]:
    columns = [key for key in rows[0] if key != "default"]
    right = {key for key in columns if all(isinstance(row.get(key), int) for row in rows)}
    width = {key: max(len(key), *(len(str(row.get(key, ""))) for row in rows)) for key in columns}

    def line(mark: str, cells: dict[str, Any]) -> str:
        parts = []
        for i, key in enumerate(columns):
            text = str(cells.get(key, ""))
            last = i == len(columns) - 1
            parts.append(
                text.rjust(width[key]) if key in right else text if last else text.ljust(width[key])
            )
        return f"{mark} " + "  ".join(parts)

    return [line(" ", {key: key for key in columns})] + [
        line("*" if row.get("default") else " ", row) for row in rows
    ]
