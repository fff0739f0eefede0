"""The streaming pipeline: stages on their own threads, joined by bounded queues.

    source ─▶ segmenter ─▶ hearing (Whisper ‖ voice) ─▶ reading (text, fusion) ─▶ sinks
                    └──▶ partials (voice, newest window) ──────────────────────▶ sinks

Every stage comes from a plugin through the registry; times are on the audio
clock (samples / 16 kHz). The analysis of one utterance may fail; the run does not.
The text and voice models load in the background while audio already flows.
"""

from __future__ import annotations

import functools
import logging
import queue
import sys
import threading
import time
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pluggy

from streamemo import preflight
from streamemo.config import PipelineOptions, call_factory, check_options, stage_options
from streamemo.errors import PreflightError, StreamemoError, one_line
from streamemo.events import (
    AudioEmotion,
    Event,
    LevelEvent,
    PartialEvent,
    StatusEvent,
    UtteranceEvent,
)
from streamemo.frames import SAMPLE_RATE, Block, Notice, Partial, Utterance
from streamemo.lifecycle import Run
from streamemo.plugins import Registry
from streamemo.scores import confidence
from streamemo.sink_runner import SinkRunner, close_all
from streamemo.stages import AudioAnalyser, Fuser, Sink, Source, TextAnalyser, Transcriber

log = logging.getLogger("streamemo")
_END = object()
LEVEL_INTERVAL_S = 0.1  # live views redraw their level meter ten times a second
# Below this (streamemo.scores.confidence), a voice reading cannot tell its labels apart:
# an utterance with no words and such a voice is skipped as no speech. Noise, tones and
# the seed's model on speech it was not trained for all read about 0.003.
VOICE_CONFIDENCE_MIN = 0.1
DRAIN_S = PipelineOptions.drain_s  # pipeline.drain_s: how long the sinks may take at the end


def _has_words(text: str | None) -> bool:
    """Whether a transcript holds a letter or a digit, not only punctuation."""
    return bool(text) and any(ch.isalnum() for ch in text)


def _ms(since: float) -> float:
    return (time.perf_counter() - since) * 1000.0


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
    if loader is not None:
        check_options(entry.factory, options, f"[{stage}] {name!r}", key=stage)
        return loader.submit(_load, entry, options, stage, name)
    return _load(entry, options, stage, name)


def _load(entry: Any, options: dict[str, Any], stage: str, name: str) -> Any:
    started = time.perf_counter()
    try:
        built = call_factory(entry.factory, options, f"[{stage}] {name!r}", key=stage)
    except StreamemoError:
        raise
    except Exception as exc:  # a plugin's own bug: name the plugin, not a traceback
        raise StreamemoError(
            f"[{stage}] {name!r} from {entry.plugin} failed to start: {one_line(exc)}"
        ) from exc
    if stage not in ("source", "segmenter"):
        log.info("loaded %s %r in %.1f s", stage, name, time.perf_counter() - started)
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
        fuser = build_stage(config, registry, "fusion")  # cheap: a bad map fails before Whisper
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


@dataclass
class _Heard:
    """A batch after Whisper and (beside it) the voice model, on its way to reading."""

    batch: list[Utterance]
    texts: list[str | None]
    languages: list[str | None]
    voice: Future | None
    timing: dict[str, float] = field(default_factory=dict)


class Pipeline:
    """One stream: its source and segmenter, the (shared) analysers, and its sinks."""

    def __init__(
        self,
        config: dict[str, Any],
        pm: pluggy.PluginManager,
        *,
        sinks: list[str] | None = None,
        source_options: dict[str, Any] | None = None,
        source: Source | None = None,
        analysers: Analysers | None = None,
        extra_sinks: list[Sink] = (),
        stderr=None,
    ):
        self.config = config
        self.pm = pm
        self.registry = Registry.collect(pm)
        self.stderr = stderr or sys.stderr
        specs = sinks if sinks is not None else config.get("sinks", ["console"])
        # everything checked at once, before anything is built: one line names every problem
        preflight.check_run(
            config,
            self.registry,
            sinks=specs,
            source=source is None,
            source_options=source_options,
            analysers=analysers is None,
        )
        self.options = PipelineOptions.from_config(config)
        self.counters: dict[str, int] = {
            "utterances": 0,
            "partials": 0,
            "errors": 0,
            "partials_skipped": 0,
            "skipped_no_speech": 0,  # utterances with no words and no confident voice
            "skipped_no_speech_s": 0.0,  # and their seconds of audio
        }
        self._lock = threading.Lock()

        self.source = source or build_stage(config, self.registry, "source", source_options)
        self.stream = getattr(self.source, "name", "stream")
        self.segmenter = build_stage(config, self.registry, "segmenter")
        self.analysers = analysers or Analysers.build(
            config, self.registry, background=True, checked=True
        )
        self.sinks = self._build_sinks(specs, config.get("sink", {})) + [
            SinkRunner(sink, type(sink).__name__, self._sink_error) for sink in extra_sinks
        ]
        self._frames: queue.Queue = queue.Queue(maxsize=self.options.frame_queue)
        self._utterances: queue.Queue = queue.Queue(maxsize=self.options.utterance_queue)
        self._partials: queue.Queue = queue.Queue(maxsize=self.options.partial_queue)
        self._heard: queue.Queue = queue.Queue(maxsize=4)  # batches between Whisper and text
        # utterances analysed together when they are waiting at once (1: never)
        self.batch_max = self.options.batch_max
        # how long the sinks may take to write what is queued once the run ends
        self.drain_s = float(self.options.drain_s)
        self.events_lost = 0  # events a sink or observer did not get: the run exits 1
        self._observer_failures: dict[str, int] = {}  # plugin -> streamemo_event failures
        self._events = 0
        self._audio_pool = ThreadPoolExecutor(1, thread_name_prefix="voice")
        self._fatal: BaseException | None = None
        # what the lifecycle hooks get: the stream's public face, not this object
        self.public = Run(
            self.stream, config, lambda: {**self.counters, **self.source_counters()}, self.stop
        )

    def _build_sinks(self, specs: list[str], options: dict[str, Any]) -> list[SinkRunner]:
        """Each sink of ``specs``; one whose factory fails is one line, not a traceback
        (and the sinks built before it are closed again)."""
        built: list[SinkRunner] = []
        for spec in specs:
            try:
                built.append(SinkRunner.from_spec(spec, self.registry, options, self._sink_error))
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

    # -- running ----------------------------------------------------------
    def run(self) -> dict[str, int]:
        """Run until the source ends or ``stop()`` is called; returns the counters."""
        for sink in self.sinks:
            sink.start()
        self.pm.hook.streamemo_startup(run=self.public)
        self.emit(StatusEvent(self.stream, "started"))
        threads = [
            threading.Thread(target=self._guard, args=(self._read_source,), name="source"),
            threading.Thread(target=self._guard, args=(self._segment,), name="segmenter"),
            threading.Thread(target=self._guard, args=(self._hear_waiting,), name="hearing"),
            threading.Thread(target=self._guard, args=(self._read_heard,), name="reading"),
            threading.Thread(target=self._guard, args=(self._analyse_partials,), name="partials"),
        ]
        for t in threads:
            t.daemon = True
            t.start()
        try:
            for t in threads:
                while t.is_alive():
                    t.join(0.1)  # short joins keep Ctrl-C deliverable to the main thread
            if self._fatal is None:
                self._guard(self.analysers.wait)  # a model that failed to load says so
        finally:
            self._audio_pool.shutdown(wait=True)
        final = {**self.counters, **self.source_counters()}
        final.update({f"dropped[{s.spec}]": s.dropped for s in self.sinks if s.dropped})
        self.emit(
            StatusEvent(
                self.stream,
                "error" if self._fatal else "stopped",
                message=str(self._fatal) if self._fatal else None,
                counters=final,
            )
        )
        unfinished = close_all(self.sinks, self.drain_s)
        self.pm.hook.streamemo_shutdown(run=self.public)
        self._report_losses(unfinished)
        if self._fatal is not None:
            raise self._fatal
        return final

    def stop(self) -> None:
        """Stop capturing; what was captured is still segmented, analysed and emitted."""
        self.source.stop()

    def source_counters(self) -> dict[str, int]:
        return dict(getattr(self.source, "counters", {}) or {})

    # -- stages -------------------------------------------------------------
    def _guard(self, work) -> None:
        try:
            work()
        except BaseException as exc:  # a stage died: stop capture, drain, report
            with self._lock:
                self._fatal = self._fatal or exc
            self.stop()
            for q in (self._frames, self._utterances, self._partials, self._heard):
                self._put_end(q)

    @staticmethod
    def _put_end(q: queue.Queue) -> None:
        while True:
            try:
                q.put(_END, timeout=0.1)
                return
            except queue.Full:
                try:
                    q.get_nowait()  # a dead consumer: make room for the end marker
                except queue.Empty:
                    pass

    def _read_source(self) -> None:
        try:
            for item in self.source.blocks():
                if isinstance(item, Notice):
                    self.emit(
                        StatusEvent(
                            self.stream,
                            item.state,
                            item.message,
                            self.source_counters(),
                            item.stream_start,
                        )
                    )
                else:  # blocks when full: a file waits, a microphone counts its overflows
                    self._frames.put(item)
        finally:
            self._frames.put(_END)

    def _segment(self) -> None:
        live = getattr(self.source, "live", False)  # level events only for a source that says
        level_every = int(SAMPLE_RATE * LEVEL_INTERVAL_S)
        heard, energy, samples = 0, 0.0, 0
        try:
            while (block := self._frames.get()) is not _END:
                assert isinstance(block, Block)
                for item in self.segmenter.feed(block):
                    self._route(item)
                if not live:
                    continue
                energy += float(np.square(block.samples, dtype=np.float64).sum())
                samples += len(block.samples)
                if samples >= level_every:
                    heard += samples
                    rms = np.sqrt(energy / samples) / 32768.0
                    self.emit(
                        LevelEvent(
                            self.stream,
                            heard / SAMPLE_RATE,
                            float(20 * np.log10(max(rms, 1e-5))),
                            bool(getattr(self.segmenter, "speaking", False)),
                        )
                    )
                    energy, samples = 0.0, 0
            for item in self.segmenter.flush():
                self._route(item)
        finally:
            self._put(self._utterances, _END)  # a stage that died: _guard puts the ends
            self._put_end(self._partials)

    def _route(self, item: Utterance | Partial) -> None:
        if isinstance(item, Utterance):
            # not for ever: once analysis has died, nobody takes it (the run is ending)
            self._put(self._utterances, item)
            return
        if not self.analysers.has("audio"):
            return
        try:
            self._partials.put_nowait(item)
        except queue.Full:  # the newest partial supersedes the oldest waiting one
            try:
                self._partials.get_nowait()
                self._count("partials_skipped")
            except queue.Empty:
                pass
            self._partials.put_nowait(item)

    def _analyse_partials(self) -> None:
        while (item := self._partials.get()) is not _END:
            audio = self.analysers.audio  # a model that failed to load ends the run, once
            try:
                emotion = audio.analyse_latest(item.audio)
            except Exception as exc:
                self.report_error("voice (partial)", exc)
                continue
            self._count("partials")
            self.emit(
                PartialEvent(
                    self.stream, item.id, item.start / SAMPLE_RATE, item.end / SAMPLE_RATE, emotion
                )
            )

    def _hear_waiting(self) -> None:
        # Live input: whatever else is already waiting goes along (the models share the
        # work), and nothing waits for more. A source that says it is not live (a file read
        # as fast as it decodes) fills each batch to batch_max or the end of the stream:
        # which utterances share a Whisper window then depends on the audio alone, not on
        # timing, so every run gives the same events. A source that says neither (serve's
        # network streams, most third-party sources) gets neither: no level events
        # (_segment) and no waiting for a batch to fill.
        whole = getattr(self.source, "live", None) is False
        ended = False
        try:
            while not ended and (utt := self._utterances.get()) is not _END:
                batch = [utt]
                while len(batch) < self.batch_max:
                    try:
                        more = self._utterances.get() if whole else self._utterances.get_nowait()
                    except queue.Empty:
                        break
                    if more is _END:
                        ended = True
                        break
                    batch.append(more)
                self._put(self._heard, self._hear(batch))
        finally:
            self._put(self._heard, _END)

    def _read_heard(self) -> None:
        while (heard := self._heard.get()) is not _END:
            for item, event in zip(heard.batch, self._read(heard), strict=True):
                if event is not None:  # None: no words, no confident voice (counted)
                    self.emit(event, ended_at=item.ended_at)

    def _put(self, q: queue.Queue, item: Any) -> None:
        """Wait for room, but not for a consumer that died."""
        while self._fatal is None:
            try:
                q.put(item, timeout=0.1)
                return
            except queue.Full:
                pass

    def analyse(self, utt: Utterance) -> UtteranceEvent | None:
        """Transcribe and read the text while the voice model runs beside it, then fuse;
        None for audio with no words and no confident voice reading (see ``_skip``)."""
        return self.analyse_many([utt])[0]

    def analyse_many(self, batch: list[Utterance]) -> list[UtteranceEvent | None]:
        """The same for utterances waiting together, through the stages' ``*_many`` methods."""
        return self._read(self._hear(batch))

    def _hear(self, batch: list[Utterance]) -> _Heard:
        """Whisper on the batch, the voice model beside it on its own thread."""
        n = len(batch)
        ids = [utt.id for utt in batch]
        audios = [utt.audio for utt in batch]
        heard = _Heard(batch, [None] * n, [None] * n, None, {"batch": n} if n > 1 else {})
        if self.analysers.has("audio"):
            heard.voice = self._audio_pool.submit(self._voice, audios, ids)
        if self.analysers.has("transcriber"):
            t0 = time.perf_counter()
            transcriber = self.analysers.transcriber
            # parts of a cut monologue, with the audio across the cut, for one that can use it
            if hasattr(transcriber, "transcribe_span") and any(
                utt.start_cut is not None or utt.end_cut is not None for utt in batch
            ):
                method, items = "transcribe_span", [utt.span() for utt in batch]
            else:
                method, items = "transcribe", audios
            transcripts = self._each(transcriber, method, items, ids, "transcriber")
            heard.timing["transcribe_ms"] = _ms(t0) / n
            for i, transcript in enumerate(transcripts):
                if transcript is not None:
                    # punctuation alone (Whisper's "." on a hum) is no words
                    heard.texts[i] = transcript.text if _has_words(transcript.text) else ""
                    heard.languages[i] = transcript.language
        return heard

    def _voice(self, audios: list[np.ndarray], ids: list[int]) -> tuple[list, float]:
        audio = self.analysers.audio  # may still be loading: wait here, not in Whisper's way
        return self._timed(self._each, audio, "analyse", audios, ids, "voice analyser")

    def _read(self, heard: _Heard) -> list[UtteranceEvent | None]:
        """Text emotion of what Whisper heard, the voice's result, fused into events;
        None for an utterance skipped as no speech (``_skip``)."""
        batch, texts, timing = heard.batch, heard.texts, heard.timing
        n = len(batch)
        ids = [utt.id for utt in batch]
        text_emotions: list[Any] = [None] * n
        audio_emotions: list[Any] = [None] * n
        spoken = [i for i, text in enumerate(texts) if text]
        if self.analysers.has("text") and spoken:
            text = self.analysers.text  # may still be loading
            t0 = time.perf_counter()
            read = self._each(
                text,
                "analyse",
                [texts[i] for i in spoken],
                [ids[i] for i in spoken],
                "text analyser",
            )
            timing["text_ms"] = _ms(t0) / len(spoken)
            for i, emotion in zip(spoken, read, strict=True):
                text_emotions[i] = emotion
        if heard.voice is not None:
            audio_emotions, audio_ms = heard.voice.result()
            timing["audio_ms"] = audio_ms / n
        fuser = self.analysers.fuser
        events: list[UtteranceEvent | None] = []
        for i, utt in enumerate(batch):
            if self._skip(texts[i], audio_emotions[i]):
                seconds = (utt.end - utt.start) / SAMPLE_RATE
                with self._lock:
                    self.counters["skipped_no_speech"] += 1
                    total = self.counters["skipped_no_speech_s"] + seconds
                    self.counters["skipped_no_speech_s"] = round(total, 2)
                events.append(None)
                continue
            emotion = None
            if fuser is not None:
                try:
                    emotion = fuser.fuse(text_emotions[i], audio_emotions[i])
                except Exception as exc:
                    self.report_error(f"fusion (utterance {utt.id})", exc)
            self._count("utterances")
            events.append(
                UtteranceEvent(
                    stream=self.stream,
                    id=utt.id,
                    start=utt.start / SAMPLE_RATE,
                    end=utt.end / SAMPLE_RATE,
                    text=texts[i],
                    language=heard.languages[i],
                    text_emotion=text_emotions[i],
                    audio_emotion=audio_emotions[i],
                    emotion=emotion,
                    latency_ms=0.0,  # stamped in emit(), the moment it leaves
                    timing=dict(timing),
                )
            )
        return events

    def _skip(self, text: str | None, voice: AudioEmotion | None) -> bool:
        """No words and no confident voice reading: noise, a tone, a cough. Such an
        utterance has nothing to say, and fusing a flat voice reading would only invent
        an emotion; it is counted (skipped_no_speech, and its seconds) instead of sent.
        No words means Whisper listened and heard none (""): with no transcriber, or one
        that failed on this utterance (None), the event is sent as before."""
        if text != "":
            return False
        return voice is None or confidence(voice.scores) < VOICE_CONFIDENCE_MIN

    def _each(self, stage: Any, method: str, items: list, ids: list[int], what: str) -> list:
        """``stage.<method>`` over items, or ``<method>_many`` at once when it has one.

        One result per item, None where the stage failed on that item: a failed
        batch is retried item by item, so an error names its own utterance.
        """
        many = getattr(stage, f"{method}_many", None) if len(items) > 1 else None
        if many is not None:
            try:
                results = list(many(items))
                if len(results) == len(items):
                    return results
                raise ValueError(f"returned {len(results)} results for {len(items)} inputs")
            except Exception as exc:
                log.warning("%s: %s_many failed (%s); one by one instead", what, method, exc)
        results = []
        for item, uid in zip(items, ids, strict=True):
            try:
                results.append(getattr(stage, method)(item))
            except Exception as exc:
                self.report_error(f"{what} (utterance {uid})", exc)
                results.append(None)
        return results

    @staticmethod
    def _timed(fn, *args):
        t0 = time.perf_counter()
        return fn(*args), _ms(t0)

    # -- output -------------------------------------------------------------
    def emit(self, event: Event, ended_at: float | None = None) -> None:
        """Hand an event to the observers and every sink; ``ended_at`` stamps the latency."""
        if ended_at is not None and isinstance(event, UtteranceEvent):
            event.latency_ms = (time.monotonic() - ended_at) * 1000.0
        self._observe(event)
        for sink in self.sinks:
            sink.offer(event)

    def _count(self, key: str, n: int = 1) -> None:
        with self._lock:
            self.counters[key] = self.counters.get(key, 0) + n

    def report_error(self, where: str, exc: BaseException, emit: bool = True) -> None:
        self._count("errors")
        message = f"{where}: {type(exc).__name__}: {exc}"
        log.warning("%s", message)
        if emit:
            self.emit(StatusEvent(self.stream, "error", message=message))

    def _observe(self, event: Event) -> None:
        """Every ``streamemo_event`` observer, each on its own: one that raises neither
        stops the others nor the sinks. Its first error is logged; the rest are counted."""
        with self._lock:
            self._events += 1
        hook = self.pm.hook.streamemo_event
        impls = hook.get_hookimpls()
        if any(impl.hookwrapper or impl.wrapper for impl in impls):
            calls = [("streamemo_event", lambda: hook(event=event))]  # pluggy's own order
        else:  # in pluggy's order (last registered first), each on its own
            calls = [
                (impl.plugin_name, functools.partial(impl.function, *[event] * len(impl.argnames)))
                for impl in reversed(impls)
            ]
        for plugin, call in calls:
            try:
                call()
            except Exception as exc:
                with self._lock:
                    failures = self._observer_failures.get(plugin, 0) + 1
                    self._observer_failures[plugin] = failures
                    self.counters["errors"] += 1
                if failures == 1:
                    log.warning(
                        "streamemo_event observer %r failed: %s: %s (further failures are counted)",
                        plugin,
                        type(exc).__name__,
                        exc,
                    )

    def _sink_error(self, spec: str, message: str) -> None:
        """A sink's first failed write (later ones are counted by its runner) or close."""
        self._count("errors")
        self._say(f"sink {spec!r} failed: {message}")

    def _say(self, message: str) -> None:
        """One whole line on stderr: sinks fail on threads of their own, at the same time."""
        with self._lock:
            self.stderr.write(f"streamemo: {message}\n")
            self.stderr.flush()

    def _report_losses(self, unfinished: list[SinkRunner]) -> None:
        """One line per sink or observer that did not get every event; sets ``events_lost``."""
        lost = 0
        for sink in self.sinks:
            undelivered = sink.undelivered  # a sink thread that died leaves its queue too
            if sink in unfinished:
                self._say(
                    f"sink {sink.spec!r} did not finish: {undelivered} events not delivered"
                    f" (waited {self.drain_s:g} s: pipeline.drain_s)"
                )
            parts = [
                f"{n} {what}"
                for n, what in (
                    (sink.failed, "writes failed"),
                    (sink.dropped, "dropped: its queue was full"),
                )
                if n
            ]
            if parts:
                self._say(
                    f"sink {sink.spec!r} lost {sink.failed + sink.dropped} events"
                    f" ({', '.join(parts)})"
                )
            lost += sink.failed + sink.dropped + undelivered
        for plugin, failures in self._observer_failures.items():
            self._say(
                f"streamemo_event observer {plugin!r} failed on {failures} of {self._events} events"
            )
            lost += failures
        self.events_lost = lost
