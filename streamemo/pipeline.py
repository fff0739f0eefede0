"""The streaming pipeline: stages on their own threads, joined by bounded queues.

    source ─▶ segmenter ─▶ analysis (Whisper → text  ‖  voice) ─▶ fusion ─▶ sinks
                    └──▶ partials (voice, newest window) ──────────────────▶ sinks

Every stage comes from a plugin through the registry; times are on the audio
clock (samples / 16 kHz). The analysis of one utterance may fail; the run does not.
"""

from __future__ import annotations

import logging
import queue
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import pluggy

from streamemo.config import call_factory, stage_options
from streamemo.errors import StreamemoError
from streamemo.events import Event, LevelEvent, PartialEvent, StatusEvent, UtteranceEvent
from streamemo.plugins import Registry
from streamemo.sinks import SinkRunner
from streamemo.stages import (
    SAMPLE_RATE,
    AudioAnalyser,
    Block,
    Fuser,
    Notice,
    Partial,
    Sink,
    Source,
    TextAnalyser,
    Transcriber,
    Utterance,
)

log = logging.getLogger("streamemo")
_END = object()
LEVEL_INTERVAL_S = 0.1  # live views redraw their level meter ten times a second


def _ms(since: float) -> float:
    return (time.perf_counter() - since) * 1000.0


def build_stage(
    config: dict[str, Any], registry: Registry, stage: str, extra: dict[str, Any] | None = None
) -> Any:
    """The stage object the config names, or None when it is switched off."""
    name, enabled, options = stage_options(config, stage)
    if not enabled:
        return None
    entry = registry.get(stage, name)
    options.update(extra or {})
    started = time.perf_counter()
    try:
        built = call_factory(entry.factory, options, f"[{stage}] {name!r}")
    except StreamemoError:
        raise
    except Exception as exc:  # a plugin's own bug: name the plugin, not a traceback
        raise StreamemoError(
            f"[{stage}] {name!r} from {entry.plugin} failed to start: {type(exc).__name__}: {exc}"
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


@dataclass
class Analysers:
    """The heavy models: loaded once, shared by every stream of a process."""

    transcriber: Transcriber | None
    text: TextAnalyser | None
    audio: AudioAnalyser | None
    fuser: Fuser | None

    @classmethod
    def build(cls, config: dict[str, Any], registry: Registry) -> Analysers:
        single_threaded_blas()
        transcriber = build_stage(config, registry, "transcriber")
        return cls(
            transcriber=transcriber,
            # text emotion reads the transcript: no transcriber, no text analysis
            text=build_stage(config, registry, "text") if transcriber is not None else None,
            audio=build_stage(config, registry, "audio"),
            fuser=build_stage(config, registry, "fusion"),
        )


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
        opts = config.get("pipeline", {})
        self.counters: dict[str, int] = {
            "utterances": 0,
            "partials": 0,
            "errors": 0,
            "partials_skipped": 0,
        }
        self._reported: set[str] = set()
        self._lock = threading.Lock()

        self.source = source or build_stage(config, self.registry, "source", source_options)
        self.stream = getattr(self.source, "name", "stream")
        self.segmenter = build_stage(config, self.registry, "segmenter")
        self.analysers = analysers or Analysers.build(config, self.registry)
        self.transcriber = self.analysers.transcriber
        self.text = self.analysers.text
        self.audio = self.analysers.audio
        self.fuser = self.analysers.fuser
        specs = sinks if sinks is not None else config.get("sinks", ["console"])
        self.sinks = [
            SinkRunner.from_spec(spec, self.registry, config.get("sink", {}), self._sink_error)
            for spec in specs
        ] + [SinkRunner(sink, type(sink).__name__, self._sink_error) for sink in extra_sinks]
        self._frames: queue.Queue = queue.Queue(maxsize=opts.get("frame_queue", 4000))
        self._utterances: queue.Queue = queue.Queue(maxsize=opts.get("utterance_queue", 32))
        self._partials: queue.Queue = queue.Queue(maxsize=opts.get("partial_queue", 2))
        # utterances analysed together when they are waiting at once (1: never)
        self.batch_max = max(1, int(opts.get("batch_max", 16)))
        self._audio_pool = ThreadPoolExecutor(1, thread_name_prefix="voice")
        self._fatal: BaseException | None = None

    # -- running ----------------------------------------------------------
    def run(self) -> dict[str, int]:
        """Run until the source ends or ``stop()`` is called; returns the counters."""
        for sink in self.sinks:
            sink.start()
        self.pm.hook.streamemo_startup(pipeline=self)
        self.emit(StatusEvent(self.stream, "started"))
        threads = [
            threading.Thread(target=self._guard, args=(self._read_source,), name="source"),
            threading.Thread(target=self._guard, args=(self._segment,), name="segmenter"),
            threading.Thread(target=self._guard, args=(self._analyse,), name="analysis"),
            threading.Thread(target=self._guard, args=(self._analyse_partials,), name="partials"),
        ]
        for t in threads:
            t.daemon = True
            t.start()
        try:
            for t in threads:
                while t.is_alive():
                    t.join(0.1)  # short joins keep Ctrl-C deliverable to the main thread
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
        for sink in self.sinks:
            sink.close(timeout=10)
        self.pm.hook.streamemo_shutdown(pipeline=self)
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
            for q in (self._frames, self._utterances, self._partials):
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
        live = getattr(self.source, "live", False)
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
            self._utterances.put(_END)
            self._put_end(self._partials)

    def _route(self, item: Utterance | Partial) -> None:
        if isinstance(item, Utterance):
            self._utterances.put(item)
            return
        if self.audio is None:
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
            try:
                emotion = self.audio.analyse_latest(item.audio)
            except Exception as exc:
                self.report_error("voice (partial)", exc)
                continue
            self._count("partials")
            self.emit(
                PartialEvent(
                    self.stream, item.id, item.start / SAMPLE_RATE, item.end / SAMPLE_RATE, emotion
                )
            )

    def _analyse(self) -> None:
        ended = False
        while not ended and (utt := self._utterances.get()) is not _END:
            batch = [utt]
            # whatever else is already waiting goes along: the models share the work
            while len(batch) < self.batch_max:
                try:
                    more = self._utterances.get_nowait()
                except queue.Empty:
                    break
                if more is _END:
                    ended = True
                    break
                batch.append(more)
            for item, event in zip(batch, self.analyse_many(batch), strict=True):
                self.emit(event, ended_at=item.ended_at)

    def analyse(self, utt: Utterance) -> UtteranceEvent:
        """Transcribe and read the text while the voice model runs beside it, then fuse."""
        return self.analyse_many([utt])[0]

    def analyse_many(self, batch: list[Utterance]) -> list[UtteranceEvent]:
        """The same for utterances waiting together, through the stages' ``*_many`` methods."""
        n = len(batch)
        ids = [utt.id for utt in batch]
        audios = [utt.audio for utt in batch]
        timing: dict[str, float] = {"batch": n} if n > 1 else {}
        voice = (
            self._audio_pool.submit(
                self._timed, self._each, self.audio, "analyse", audios, ids, "voice analyser"
            )
            if self.audio
            else None
        )
        texts: list[str | None] = [None] * n
        languages: list[str | None] = [None] * n
        text_emotions: list[Any] = [None] * n
        audio_emotions: list[Any] = [None] * n
        if self.transcriber is not None:
            t0 = time.perf_counter()
            transcripts = self._each(self.transcriber, "transcribe", audios, ids, "transcriber")
            timing["transcribe_ms"] = _ms(t0) / n
            for i, transcript in enumerate(transcripts):
                if transcript is not None:
                    texts[i], languages[i] = transcript.text, transcript.language
        spoken = [i for i, text in enumerate(texts) if text]
        if self.text is not None and spoken:
            t0 = time.perf_counter()
            read = self._each(
                self.text,
                "analyse",
                [texts[i] for i in spoken],
                [ids[i] for i in spoken],
                "text analyser",
            )
            timing["text_ms"] = _ms(t0) / len(spoken)
            for i, emotion in zip(spoken, read, strict=True):
                text_emotions[i] = emotion
        if voice is not None:
            audio_emotions, audio_ms = voice.result()
            timing["audio_ms"] = audio_ms / n
        events = []
        for i, utt in enumerate(batch):
            emotion = None
            if self.fuser is not None:
                try:
                    emotion = self.fuser.fuse(text_emotions[i], audio_emotions[i])
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
                    language=languages[i],
                    text_emotion=text_emotions[i],
                    audio_emotion=audio_emotions[i],
                    emotion=emotion,
                    latency_ms=0.0,  # stamped in emit(), the moment it leaves
                    timing=dict(timing),
                )
            )
        return events

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
        try:
            self.pm.hook.streamemo_event(event=event)
        except Exception as exc:
            self.report_error("streamemo_event observer", exc, emit=False)
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

    def _sink_error(self, spec: str, message: str) -> None:
        self._count("errors")
        key = f"{spec}:{message}"
        if key not in self._reported:  # say it once, not once per event
            self._reported.add(key)
            print(f"streamemo: sink {spec!r} failed: {message}", file=self.stderr)
