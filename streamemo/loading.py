"""Building a run's stages from the config and the registry, the heavy ones in the
background, and the container of the models every stream of a process shares.

Every stage built here goes through ``streamemo.contract.conform``: a stage missing a
method fails here, in one line, not later per utterance on a worker thread.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from typing import Any

from streamemo import preflight
from streamemo.allocator import keep_big_buffers
from streamemo.config import stage_options
from streamemo.contract import check_factory, conform
from streamemo.errors import PreflightError, StreamemoError, one_line
from streamemo.factory_options import call_factory, check_options
from streamemo.plugins import Registration, Registry
from streamemo.sink_runner import SinkRunner
from streamemo.stages import AudioAnalyser, Fuser, Segmenter, Source, TextAnalyser, Transcriber

log = logging.getLogger("streamemo")


def build_stage(
    config: dict[str, Any],
    registry: Registry,
    stage: str,
    extra: dict[str, Any] | None = None,
    loader: Executor | None = None,
) -> Any:
    """The stage object the config names, or None when it is switched off; with a
    ``loader``, a Future of it (its name and options are checked here and now)."""
    name, enabled, options = stage_options(config, stage)
    if not enabled:
        return None
    entry = registry.get(stage, name)
    options.update(extra or {})
    if loader is not None:  # what can be checked before it loads is checked now
        check_options(entry.factory, options, f"[{stage}] {name!r}", key=stage)
        check_factory(stage, entry.factory, f"[{stage}] {name!r} (plugin {entry.plugin!r})")
        return loader.submit(_load, entry, options)
    return _load(entry, options)


def _load(entry: Registration, options: dict[str, Any]) -> Any:
    stage, name = entry.kind, entry.name
    started = time.perf_counter()
    try:
        built = call_factory(entry.factory, options, f"[{stage}] {name!r}", key=stage)
    except StreamemoError:
        raise
    except Exception as exc:  # a plugin's own bug: name the plugin, not a traceback
        raise StreamemoError(
            f"[{stage}] {name!r} from {entry.plugin} failed to start: {one_line(exc)}"
        ) from exc
    built = conform(stage, built, f"[{stage}] {name!r} (plugin {entry.plugin!r})")
    if stage not in ("source", "segmenter"):
        log.info("loaded %s %r in %.1f s", stage, name, time.perf_counter() - started)
    return built


def build_stages(
    config: dict[str, Any],
    registry: Registry,
    sinks: list[str],
    source_options: dict[str, Any] | None = None,
    *,
    source: Source | None = None,
    analysers: Analysers | None = None,
) -> tuple[Source, Segmenter, Analysers]:
    """One stream's source (unless given), segmenter and analysers (unless given: then
    their models load in the background), after checking everything at once: one line
    names every problem of the run, ``sinks`` included, before anything is built."""
    preflight.check_run(
        config,
        registry,
        sinks=sinks,
        source=source is None,
        source_options=source_options,
        analysers=analysers is None,
    )
    if source is None:
        source = build_stage(config, registry, "source", source_options)
    else:  # serve's network streams, tests: built by the caller, checked all the same
        source = conform("source", source, f"[source] {type(source).__name__}")
    segmenter = build_stage(config, registry, "segmenter")
    if analysers is None:
        analysers = Analysers.build(config, registry, background=True, checked=True)
    return source, segmenter, analysers


def build_sinks(
    specs: list[str],
    registry: Registry,
    options: dict[str, Any],
    on_error: Callable[[str, str], None],
) -> list[SinkRunner]:
    """A runner for each sink of ``specs``; one whose factory fails is one line, not a
    traceback (and the sinks built before it are closed again)."""
    built: list[SinkRunner] = []
    for spec in specs:
        try:
            built.append(SinkRunner.from_spec(spec, registry, options, on_error))
        except Exception as exc:
            for runner in built:
                try:
                    runner.sink.close()
                except Exception:  # already failing: the first error is the one to tell
                    pass
            if isinstance(exc, StreamemoError):
                raise
            raise StreamemoError(f"sink {spec!r} failed to start: {one_line(exc)}") from exc
    return built


def single_threaded_blas() -> None:
    """numpy's OpenBLAS on one thread, for the whole process.

    Its idle workers spin after every call and take the cores from torch's and
    CTranslate2's threads: the voice model's forward pass went from 0.6 to
    2.3 ms and Whisper's encoder 20 % slower (benchmarks/README.md). numpy's
    share of the work is small enough for one thread.
    """
    from threadpoolctl import threadpool_limits

    threadpool_limits(1, user_api="blas")


class Analysers:
    """The heavy models: loaded once, shared by every stream of a process.

    A stage may still be loading (a Future): ``get`` waits for it, ``has`` does not.
    """

    def __init__(
        self,
        transcriber: Transcriber | Future | None,
        text: TextAnalyser | Future | None,
        audio: AudioAnalyser | Future | None,
        fuser: Fuser | None,
    ):
        self._stages = {"transcriber": transcriber, "text": text, "audio": audio, "fuser": fuser}

    @classmethod
    def build(
        cls,
        config: dict[str, Any],
        registry: Registry,
        *,
        background: bool = False,
        checked: bool = False,
    ) -> Analysers:
        """Every model loaded; with ``background``, the text and voice models load on
        a thread of their own (audio can flow and Whisper work meanwhile).

        First every model is looked for and every option checked (``streamemo.preflight``):
        one error names all that is wrong, before anything loads. ``checked``: the caller
        has done that already."""
        if not checked and (problems := preflight.check_analysers(config, registry)):
            raise PreflightError(problems)
        single_threaded_blas()
        keep_big_buffers()
        fuser = build_stage(config, registry, "fuser")  # cheap: a bad map fails before Whisper
        loader = ThreadPoolExecutor(1, thread_name_prefix="loading") if background else None
        loaded = False
        try:
            # the background loads start first: they import torch while Whisper loads here
            hearing = stage_options(config, "transcriber")[1]
            # text emotion reads the transcript: no transcriber, no text analysis
            text = build_stage(config, registry, "text", loader=loader) if hearing else None
            audio = build_stage(config, registry, "audio", loader=loader)
            analysers = cls(build_stage(config, registry, "transcriber"), text, audio, fuser)
            loaded = True
            return analysers
        finally:
            if loader is not None:  # the loads go on (unless Whisper failed); the thread ends
                loader.shutdown(wait=False, cancel_futures=not loaded)

    def has(self, stage: str) -> bool:
        """Whether the stage is on (loaded or loading)."""
        return self._stages[stage] is not None

    def get(self, stage: str) -> Any:
        """The stage, once loaded (a failed load raises its error here), or None when off."""
        value = self._stages[stage]
        if isinstance(value, Future):
            value = self._stages[stage] = value.result()
        return value

    def wait(self) -> None:
        """Every stage loaded, or the first load's error."""
        for stage in self._stages:
            self.get(stage)

    @property
    def transcriber(self) -> Transcriber | None:
        return self.get("transcriber")

    @property
    def text(self) -> TextAnalyser | None:
        return self.get("text")

    @property
    def audio(self) -> AudioAnalyser | None:
        return self.get("audio")

    @property
    def fuser(self) -> Fuser | None:
        return self.get("fuser")
