"""The runner: one stream's stages on their own threads, joined by bounded queues.

    source ─▶ segmenter ─▶ hearing (transcriber ‖ audio) ─▶ reading (text, fuser) ─▶ sinks
                    ├──▶ partials (audio, newest window; words so far) ─────────▶ sinks
                    └──▶ speculating (a Pause heard and read early) ──▶ hearing uses it

Only the threads, queues and shutdown live here; the parts are ``loading``, ``analysis``,
``metering``, ``emission`` and ``lifecycle``. Every queue ends with an end marker; a stage
that dies stops the capture and puts the end markers its neighbours wait for, and the run
ends with its error once what was captured has been analysed and delivered.
"""

from __future__ import annotations

import queue
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pluggy

from streamemo.analysis import Analysis
from streamemo.emission import Emission
from streamemo.events import StatusEvent
from streamemo.frames import Block, Notice, Partial, Pause, Utterance
from streamemo.lifecycle import Run
from streamemo.loading import Analysers, build_sinks, build_stages
from streamemo.metering import LevelMeter
from streamemo.pipeline_options import PipelineOptions
from streamemo.plugins import Registry
from streamemo.priority import mark_background
from streamemo.sink_runner import SinkRunner, close_all
from streamemo.speculation import Guess, Speculator
from streamemo.stages import Sink, Source

__all__ = ["Analysers", "Pipeline"]  # Analysers: from streamemo.loading, for its old users

_END = object()  # the last item of every queue
# a shared Whisper busier than this takes no guesses: each one it runs holds up the
# finished utterances of other streams, and most guesses are dropped (speech goes on)
SPARE_BELOW = 0.5
# a partial that comes while its utterance's pause is heard waits this long for those words
GUESS_WORDS_WAIT_S = 1.5


class _Claimed:
    """An utterance whose speculation foresaw it: hearing waits for that, not Whisper."""

    def __init__(self, utterance: Utterance, guess: Guess):
        self.utterance, self.guess = utterance, guess


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
        self.pm = pm
        self.registry = Registry.collect(pm)
        specs = sinks if sinks is not None else config.get("sinks", [])
        built = build_stages(
            config, self.registry, specs, source_options, source=source, analysers=analysers
        )
        self.source, self.segmenter, self.analysers = built
        self.stream = self.source.name
        self.options = PipelineOptions.from_config(config)
        self.emission = Emission(self.stream, pm, stderr or sys.stderr)
        self.emission.sinks = build_sinks(
            specs, self.registry, config.get("sink", {}), self.emission.sink_error
        ) + [SinkRunner(s, type(s).__name__, self.emission.sink_error) for s in extra_sinks]
        self._audio_pool = ThreadPoolExecutor(1, thread_name_prefix="voice")
        self.analysis = Analysis(
            self.analysers,
            self.emission,
            beside=self._audio_pool,
            # a file read as fast as it decodes has nobody watching its words come: no
            # Whisper per hop, and its events depend on the audio alone, never on timing
            live_words=self.options.live_words
            and self.analysers.has("transcriber")
            and self.source.live is not False,
        )
        # speculation: a live stream's utterance is heard while its hangover runs (a
        # file read as fast as it decodes has nobody waiting, and stays reproducible)
        self.speculator: Speculator | None = None
        if self.options.speculate and self.source.live is not False:
            if hasattr(self.segmenter, "pauses"):  # a segmenter that can yield a Pause
                self.segmenter.pauses = True
                hint = getattr(self.segmenter, "hint", None)
                self.speculator = Speculator(self.analysis, self.emission, hint, self._spare)
        self._frames: queue.Queue = queue.Queue(maxsize=self.options.frame_queue)
        self._utterances: queue.Queue = queue.Queue(maxsize=self.options.utterance_queue)
        # a file read as fast as it decodes keeps every partial, so that each run gives the
        # same events; they never hold up the segmenter (the utterances' queue bounds it)
        room = 0 if self.source.live is False else self.options.partial_queue
        self._partials: queue.Queue = queue.Queue(maxsize=room)
        self._heard: queue.Queue = queue.Queue(maxsize=4)  # batches between hearing and reading
        self.batch_max = self.options.batch_max  # utterances heard together (1: never)
        self.drain_s = float(self.options.drain_s)  # how long the sinks may take at the end
        self._fatal: BaseException | None = None
        # live words give way to final transcripts: Whisper on an utterance that ended
        # goes first, and a partial of an utterance that ended needs no words any more
        self._hearing = threading.Event()  # the transcriber is on a batch
        self._ended_id = 0  # the id of the newest utterance that ended (segmenter thread)
        self._lock = threading.Lock()
        # what the lifecycle hooks get: the stream's public face, not this object
        self.public = Run(self.stream, config, self._all_counters, self.stop)

    @property
    def counters(self) -> dict[str, Any]:
        return self.emission.counters

    @property
    def events_lost(self) -> int:
        return self.emission.events_lost

    def run(self) -> dict[str, Any]:
        """Run until the source ends or ``stop()`` is called; returns the counters."""
        for sink in self.emission.sinks:
            sink.start()
        self.pm.hook.streamemo_startup(run=self.public)
        self.emission.emit(StatusEvent(self.stream, "started"))
        threads = [
            threading.Thread(target=self._guard, args=(work,), name=name, daemon=True)
            for name, work in (
                ("source", self._read_source),
                ("segmenter", self._segment),
                ("hearing", self._hear_waiting),
                ("reading", self._read_heard),
                ("partials", self._analyse_partials),
                *([("speculating", self.speculator.run)] if self.speculator else []),
            )
        ]
        for t in threads:
            t.start()
        try:
            for t in threads:
                while t.is_alive():
                    t.join(0.1)  # short joins keep Ctrl-C deliverable to the main thread
            if self._fatal is None:
                self._guard(self.analysers.wait)  # a model that failed to load says so
        finally:
            self._audio_pool.shutdown(wait=True)
        final = self._all_counters()
        final.update({f"dropped[{s.spec}]": s.dropped for s in self.emission.sinks if s.dropped})
        state = "error" if self._fatal else "stopped"
        message = str(self._fatal) if self._fatal else None
        self.emission.emit(StatusEvent(self.stream, state, message=message, counters=final))
        unfinished = close_all(self.emission.sinks, self.drain_s)
        self.pm.hook.streamemo_shutdown(run=self.public)
        self.emission.report_losses(unfinished, self.drain_s)
        if self._fatal is not None:
            raise self._fatal
        return final

    def stop(self) -> None:
        """Stop capturing; what was captured is still segmented, analysed and emitted."""
        self.source.stop()

    def source_counters(self) -> dict[str, int]:
        return dict(self.source.counters)

    def _all_counters(self) -> dict[str, Any]:
        return {**self.counters, **self.source_counters()}

    def _spare(self) -> bool:
        """Whether a guess or live words may start: a transcriber shared with other
        streams (serve's) must have been idle at least half of the last seconds; one of
        this stream's own always may."""
        busy_share = getattr(self.analysers.transcriber, "busy_share", None)
        return busy_share is None or busy_share() < SPARE_BELOW

    # -- threads ----------------------------------------------------------------
    def _guard(self, work) -> None:
        try:
            work()
        except BaseException as exc:  # a stage died: stop capture, drain, report
            with self._lock:
                self._fatal = self._fatal or exc
            self.stop()
            if self.speculator is not None:
                self.speculator.close()
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

    def _put(self, q: queue.Queue, item: Any) -> None:
        """Wait for room, but not for a consumer that died."""
        while self._fatal is None:
            try:
                q.put(item, timeout=0.1)
                return
            except queue.Full:
                pass

    def _read_source(self) -> None:
        try:
            for item in self.source.blocks():
                if isinstance(item, Notice):
                    counters, at = self.source_counters(), item.stream_start
                    self.emission.emit(
                        StatusEvent(self.stream, item.state, item.message, counters, at)
                    )
                else:  # waits when full (a file waits, a microphone counts its overflows),
                    self._put(self._frames, item)  # but not for a segmenter that died
        finally:
            self._put(self._frames, _END)

    def _segment(self) -> None:
        # level events only for a source that says it is live
        meter = LevelMeter(self.stream) if self.source.live is True else None
        try:
            while (block := self._frames.get()) is not _END:
                assert isinstance(block, Block)
                for item in self.segmenter.feed(block):
                    self._route(item)
                if meter is not None and (level := meter.feed(block, self.segmenter.speaking)):
                    self.emission.emit(level)
            for item in self.segmenter.flush():
                self._route(item)
        finally:
            if self.speculator is not None:
                self.speculator.close()  # what it hears now still finishes
            self._put(self._utterances, _END)  # a stage that died: _guard puts the ends
            self._put_end(self._partials)

    def _route(self, item: Utterance | Partial | Pause) -> None:
        if isinstance(item, Pause):
            if self.speculator is not None:
                self.speculator.offer(item)
            return
        if isinstance(item, Utterance):
            self._ended_id = item.id
            guess = self.speculator.claim(item) if self.speculator is not None else None
            # not for ever: once analysis has died, nobody takes it (the run is ending)
            self._put(self._utterances, item if guess is None else _Claimed(item, guess))
            return
        words = self.analysis.live_words and item.so_far is not None
        if not (self.analysers.has("audio") or words):
            return
        try:
            self._partials.put_nowait(item)
        except queue.Full:  # the newest partial supersedes the oldest waiting one: a slow
            try:  # Whisper on the words so far skips hops (counted), it never falls behind
                self._partials.get_nowait()
                self.emission.count("partials_skipped")
            except queue.Empty:
                pass
            self._partials.put_nowait(item)

    def _analyse_partials(self) -> None:
        mark_background()  # a shared model runs other streams' finished utterances first
        while (item := self._partials.get()) is not _END:
            words = (
                item.id > self._ended_id and not self._hearing.is_set() and self._utterances.empty()
            )
            guessed = None
            if self.speculator is not None and self.speculator.busy.is_set():
                # a pause is being heard: the final words go first, and they are these
                if self.analysis.live_words and item.id > self._ended_id:
                    guessed = self.speculator.words_of(item.id, GUESS_WORDS_WAIT_S)
                if guessed is not None:
                    words = False
                    self.emission.count("live_words_from_guesses")
                else:  # no such guess, or it failed: a draft, once Whisper is free
                    words = words and not self.speculator.busy.is_set()
            if words and self.analysis.live_words and not self._spare():
                words = False  # a busy shared Whisper: other streams' finals go first
                self.emission.count("live_words_skipped")
            if (event := self.analysis.partial(item, words, guessed)) is not None:
                self.emission.emit(event)

    def _hear_waiting(self) -> None:
        # Live input: whatever else is already waiting goes along (the models share the
        # work), and nothing waits for more. A source that says it is not live (a file read
        # as fast as it decodes) fills each batch to batch_max or the end of the stream:
        # which utterances share a Whisper window then depends on the audio alone, not on
        # timing, so every run gives the same events. A source that says neither (serve's
        # network streams, most third-party sources) gets neither: no level events
        # (_segment) and no waiting for a batch to fill.
        whole = self.source.live is False
        ended = False
        held = None  # a claimed utterance that came while a batch was being gathered
        try:
            while not ended:
                utt, held = (held if held is not None else self._utterances.get()), None
                if utt is _END:
                    break
                if isinstance(utt, _Claimed):
                    self._put(self._heard, self._foreseen(utt))
                    continue
                batch = [utt]
                while len(batch) < self.batch_max:
                    try:
                        more = self._utterances.get() if whole else self._utterances.get_nowait()
                    except queue.Empty:
                        break
                    if more is _END:
                        ended = True
                        break
                    if isinstance(more, _Claimed):
                        held = more  # next, on its own: it is heard already
                        break
                    batch.append(more)
                self._hearing.set()
                try:
                    heard = self.analysis.hear(batch)
                finally:
                    self._hearing.clear()
                self._put(self._heard, heard)
        finally:
            self._put(self._heard, _END)

    def _foreseen(self, claimed: _Claimed):
        """The speculation's result for the utterance (waiting for it if it is still
        running), or the utterance heard as usual if it failed."""
        guess = claimed.guess
        while not guess.done.wait(0.1):
            if self._fatal is not None:
                break
        heard = guess.heard
        if heard is None:
            return self.analysis.hear([claimed.utterance])
        heard.batch = [claimed.utterance]  # its ended_at: the latency is measured from it
        return heard

    def _read_heard(self) -> None:
        while (heard := self._heard.get()) is not _END:
            for item, event in zip(heard.batch, self.analysis.read(heard), strict=True):
                if event is not None:  # None: no words, no confident voice (counted)
                    self.emission.emit(event, ended_at=item.ended_at)
