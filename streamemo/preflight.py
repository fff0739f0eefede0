"""Start-up checks: everything a run needs, checked before audio flows or a model loads.

For every stage and sink the config names: the plugin exists, its options are known,
of their declared types and finite, and the stage's own cheap check passes. That
check is ``preflight`` beside the factory (``register(name, factory, preflight=check)``,
or a ``preflight`` classmethod/attribute of the factory): it gets the options the
factory would get, with the defaults filled in, and raises ``StreamemoError`` (one
line) for what is wrong: a model that cannot be found, an input that cannot be read,
a file that cannot be written. It must not load weights or import heavy libraries.
A stage without one is checked for its options only, and still works.

Every problem found is collected, and one ``PreflightError`` names them all.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from streamemo.config import stage_options
from streamemo.errors import PreflightError, StreamemoError
from streamemo.factory_options import check_options, option_defaults
from streamemo.pipeline_options import PipelineOptions
from streamemo.plugins import Registration, Registry
from streamemo.sink_runner import sink_factory

ANALYSERS = ("transcriber", "text", "audio", "fuser")


def check_run(
    config: dict[str, Any],
    registry: Registry,
    *,
    sinks: Iterable[str] = (),
    source: bool = True,
    source_options: dict[str, Any] | None = None,
    analysers: bool = True,
) -> None:
    """Raise one ``PreflightError`` naming every problem of a run: its source (when
    ``source``), segmenter, analysers (when ``analysers``), ``sinks`` and pipeline options."""
    problems = _problems(PipelineOptions.from_config, config)
    if source:
        problems += check_stage(config, registry, "source", source_options)
    problems += check_stage(config, registry, "segmenter")
    if analysers:
        problems += check_analysers(config, registry)
    problems += check_sinks(sinks, registry, config.get("sink") or {})
    if problems:
        raise PreflightError(problems)


def check_analysers(config: dict[str, Any], registry: Registry) -> list[str]:
    """The problems of the transcriber, the text and audio analysers and the fuser."""
    problems = []
    for stage in ANALYSERS:
        if stage == "text" and not _enabled(config, "transcriber"):
            continue  # no transcript, no text analysis: it is never built
        problems += check_stage(config, registry, stage)
    return problems


def check_stage(
    config: dict[str, Any], registry: Registry, stage: str, extra: dict[str, Any] | None = None
) -> list[str]:
    """The problems of one stage (``extra``: options from the command line), or []."""
    try:
        name, enabled, options = stage_options(config, stage)
        if not enabled:
            return []
        entry = registry.get(stage, name)
        options.update(extra or {})
        where = f"[{stage}] {name!r}"
        check_options(entry.factory, options, where, key=stage)
        run_check(entry, options, where)
    except StreamemoError as exc:
        return [str(exc)]
    return []


def check_sinks(
    specs: Iterable[str], registry: Registry, options: dict[str, dict[str, Any]]
) -> list[str]:
    """The problems of each sink spec (``jsonl:out.jsonl``) with its ``[sink.NAME]`` table,
    and of any ``[sink.NAME]`` table that names no sink."""
    known = registry.entries.get("sink", {})
    problems = [
        f"[sink.{name}] is for no sink: no sink is named {name!r}; "
        f"sinks: {', '.join(sorted(known)) or 'none'}"
        for name in options
        if name not in known
    ]
    for spec in specs:
        try:
            entry, kwargs = sink_factory(spec, registry, options)
            name = entry.name
            check_options(entry.factory, kwargs, f"sink {name!r}", key=f"sink.{name}")
            run_check(entry, kwargs, f"sink {spec!r}")
        except StreamemoError as exc:
            problems.append(str(exc))
    return problems


def run_check(entry: Registration, options: dict[str, Any], where: str) -> None:
    """The stage's own check, with the options its factory would get."""
    check = entry.check
    if check is None:
        return
    try:
        check(**{**option_defaults(entry.factory), **options})
    except StreamemoError:
        raise
    except Exception as exc:  # the check's own bug must not hide behind a traceback
        raise StreamemoError(
            f"{where} from {entry.plugin}: its start-up check failed: {type(exc).__name__}: {exc}"
        ) from exc


def _enabled(config: dict[str, Any], stage: str) -> bool:
    try:
        return stage_options(config, stage)[1]
    except StreamemoError:
        return True  # the stage's own check says what is wrong


def _problems(check, *args: Any) -> list[str]:
    try:
        check(*args)
    except StreamemoError as exc:
        return [str(exc)]
    return []
