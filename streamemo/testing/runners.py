"""Run a plugin's stage the way streamemo runs it: checked against the contract, a sink
on the real sink runner, a stage in a real pipeline among small fake stages."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from streamemo import hookspecs
from streamemo.contract import conform
from streamemo.events import Event, PartialEvent, StatusEvent, UtteranceEvent
from streamemo.frames import Block
from streamemo.plugins import STAGE_HOOKS
from streamemo.testing import fakes
from streamemo.testing.audio import utterances


def check_stage(kind: str, stage: object, name: str = "under-test") -> Any:
    """``stage`` checked as streamemo checks it at start-up (``PluginError``, one line,
    when it breaks the contract of ``kind``); returns what the engine would use."""
    return conform(kind, stage, f"[{kind}] {name!r} (plugin 'test')")


def run_stage(kind: str, stage: object, inputs: Iterable[Any], *, many: bool = False) -> list:
    """Each input through the stage's main call (``many``: through ``*_many`` at once):
    audio for a transcriber or audio analyser, texts for a text analyser, (text, audio)
    pairs for a fuser, blocks or ``int16`` arrays for a segmenter (flushed at the end),
    events for a sink (``run_sink``), and for a source its first ``inputs`` items."""
    checked = check_stage(kind, stage)
    if kind == "sink":
        return [run_sink(checked, inputs)]
    if kind == "source":
        items: list = []
        for item in checked.blocks():
            items.append(item)
            if len(items) >= int(inputs):  # type: ignore[arg-type]
                break
        checked.stop()
        return items
    items = list(inputs)
    if kind == "segmenter":
        out = []
        for item in items:
            block = item if isinstance(item, Block) else Block(np.asarray(item, np.int16), 0.0)
            out += list(checked.feed(block))
        return out + list(checked.flush())
    if kind == "fuser":
        return [checked.fuse(text, audio) for text, audio in items]
    method = {"transcriber": "transcribe", "text": "analyse", "audio": "analyse"}[kind]
    if many:
        return list(getattr(checked, f"{method}_many")(items))
    return [getattr(checked, method)(item) for item in items]


@dataclass
class SinkRun:
    written: int
    failed: int
    dropped: int
    errors: list[str]  # the lines streamemo would print: the first failed write, a close
    finished: bool  # wrote everything and closed within the time


def run_sink(sink: object, events: Iterable[Event], *, timeout: float = 10.0) -> SinkRun:
    """``events`` through the real sink runner: the sink checked, written on its own
    thread in order (filtered by its ``event_types``), then closed."""
    from streamemo.sink_runner import SinkRunner

    errors: list[str] = []
    checked = check_stage("sink", sink)
    runner = SinkRunner(checked, "under-test", lambda spec, msg: errors.append(msg))
    runner.start()
    for event in events:
        runner.offer(event)
    finished = runner.close(timeout)
    return SinkRun(runner.written, runner.failed, runner.dropped, errors, finished)


@dataclass
class PipelineRun:
    events: list[Event]  # every event, in the order the sinks got them
    counters: dict[str, Any]
    stderr: str  # what streamemo printed (failed sinks, losses)
    events_lost: int = 0
    stages: dict[str, Any] = field(default_factory=dict)  # what ran, by kind

    @property
    def utterances(self) -> list[UtteranceEvent]:
        return [e for e in self.events if isinstance(e, UtteranceEvent)]

    @property
    def partials(self) -> list[PartialEvent]:
        return [e for e in self.events if isinstance(e, PartialEvent)]

    @property
    def statuses(self) -> list[StatusEvent]:
        return [e for e in self.events if isinstance(e, StatusEvent)]


class _TestPlugin:
    """Registers the objects given to ``run_pipeline`` under testing names."""

    def __init__(self) -> None:
        self.stages: dict[str, dict[str, Any]] = {kind: {} for kind in STAGE_HOOKS}

    def add(self, kind: str, stage: object) -> str:
        name = f"testing-{kind}-{len(self.stages[kind]) + 1}"
        self.stages[kind][name] = stage
        return name

    def _register(self, kind: str, register: Any) -> None:
        for name, stage in self.stages[kind].items():
            register(name, lambda _stage=stage: _stage)


def _hook(kind: str) -> Any:
    def hook(self: _TestPlugin, register: Any) -> None:
        self._register(kind, register)

    return hookspecs.hookimpl(hook)


for _kind, _name in STAGE_HOOKS.items():
    setattr(_TestPlugin, _name, _hook(_kind))


def _defaults(samples: np.ndarray | None) -> dict[str, Any]:
    audio = utterances(1.2, 1.6, 1.0) if samples is None else samples
    return {
        "source": lambda: fakes.ArraySource(audio),
        "segmenter": fakes.EnergySegmenter,
        "transcriber": lambda: fakes.FixedTranscriber(("hello there", "how are you", "goodbye")),
        "text": fakes.FixedTextAnalyser,
        "audio": fakes.LoudnessAudioAnalyser,
        "fuser": fakes.PreferTextFuser,
    }


def run_pipeline(
    *,
    samples: np.ndarray | None = None,
    source: object = None,
    segmenter: object = None,
    transcriber: object = None,
    text: object = None,
    audio: object = None,
    fuser: object = None,
    sinks: Sequence[object] = (),
    plugins: Sequence[object] = (),
    plugins_dir: str | Path | None = None,
    options: dict[str, dict[str, Any]] | None = None,
    pipeline: dict[str, Any] | None = None,
    timeout: float = 30.0,
) -> PipelineRun:
    """A real pipeline run, with your stages and fast fakes for the rest.

    Each stage is an object (yours), a name (a stage registered by ``plugins``,
    ``plugins_dir`` or a built-in, with ``options[kind]`` as its options), ``False``
    (switched off; not the source or segmenter) or None: the fake from
    ``streamemo.testing.fakes``, the source playing ``samples`` (default: three
    speech-like utterances). ``sinks``: objects or specs (``"jsonl:out.jsonl"``); the
    events are collected beside them. ``pipeline``: ``[pipeline]`` options. Plugins'
    observer hooks (``streamemo_event``, ``streamemo_startup``...) run as in a real run.
    """
    from streamemo.pipeline import Pipeline
    from streamemo.plugins import get_plugin_manager

    pm = get_plugin_manager(plugins_dir)
    for plugin in plugins:
        if not pm.is_registered(plugin):
            pm.register(plugin)
    own = _TestPlugin()
    defaults = _defaults(samples)
    given = {"source": source, "segmenter": segmenter, "transcriber": transcriber}
    given.update({"text": text, "audio": audio, "fuser": fuser})
    config: dict[str, Any] = {"pipeline": dict(pipeline or {"drain_s": timeout})}
    used: dict[str, Any] = {}
    for kind, stage in given.items():
        if stage is False:
            config[kind] = {"name": "off", "enabled": False}
            continue
        if stage is None:
            stage = defaults[kind]()
        if isinstance(stage, str):
            config[kind] = {"name": stage, **(options or {}).get(kind, {})}
        else:
            config[kind] = {"name": own.add(kind, stage)}
        used[kind] = stage
    collector = fakes.CollectingSink()
    specs = [own.add("sink", collector)]
    specs += [s if isinstance(s, str) else own.add("sink", s) for s in sinks]
    config["sinks"] = specs
    config["sink"] = {name: opts for name, opts in (options or {}).get("sink", {}).items()}
    pm.register(own, "streamemo.testing")
    stderr = io.StringIO()
    run = Pipeline(config, pm, sinks=specs, stderr=stderr)
    return _run(run, collector, stderr, used, timeout)


def _run(run: Any, collector: Any, stderr: io.StringIO, used: dict, timeout: float) -> PipelineRun:
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["counters"] = run.run()
        except BaseException as exc:  # handed to the caller's thread below
            outcome["error"] = exc

    thread = threading.Thread(target=target, name="testing-pipeline", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        run.stop()
        thread.join(5.0)
        raise TimeoutError(f"the pipeline did not finish within {timeout:g} s")
    if "error" in outcome:
        raise outcome["error"]
    lost = getattr(run, "events_lost", 0)
    return PipelineRun(collector.events, outcome["counters"], stderr.getvalue(), lost, used)
