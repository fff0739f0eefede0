"""The analysis rules, synchronous: hear a batch of utterances, then read it.

*Hearing*: the transcriber on the batch, the audio analyser beside it (on ``beside``,
an executor, when one is given: the runner's "voice" thread; else inline). *Reading*:
the text analyser on what was heard, the audio analyser's results, the fuser, and one
``UtteranceEvent`` per utterance, or None for one skipped as no speech (``skip``).

A batch goes through each stage's ``*_many`` method at once; when that raises or
returns the wrong number of results, the batch is retried one by one, so one bad
utterance costs only its own result (and one error status), never the run.
"""

from __future__ import annotations

import contextvars
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from typing import Any

from streamemo.emission import Emission
from streamemo.events import AudioEmotion, PartialEvent, UtteranceEvent
from streamemo.frames import SAMPLE_RATE, Partial, Utterance
from streamemo.live_words import StablePrefix
from streamemo.loading import Analysers
from streamemo.priority import Withdrawn
from streamemo.scores import UNSURE_BELOW, confidence_of

log = logging.getLogger("streamemo")
# A voice reading under this confidence cannot tell its labels apart: an utterance with
# no words and such a voice is skipped as no speech. The same threshold as every display's
# "unsure" (streamemo.scores.UNSURE_BELOW): a voice the console calls unsure is one the
# engine would not send alone. Noise, tones and the seed's model on speech it was not
# trained for all read about 0.003. (The old name, kept for plugins that import it.)
VOICE_CONFIDENCE_MIN = UNSURE_BELOW


def has_words(text: str | None) -> bool:
    """Whether a transcript holds a letter or a digit, not only punctuation."""
    return bool(text) and any(ch.isalnum() for ch in text)


def skip(text: str | None, voice: AudioEmotion | None) -> bool:
    """No words and no confident voice reading: noise, a tone, a cough. Such an
    utterance has nothing to say, and fusing a flat voice reading would only invent
    an emotion; it is counted (skipped_no_speech, and its seconds) instead of sent.
    No words means the transcriber listened and heard none (""): with no transcriber,
    or one that failed on this utterance (None), the event is sent as before."""
    if text != "":
        return False
    # the result's own confidence: an analyser that gives one is judged by it
    return voice is None or confidence_of(voice) < UNSURE_BELOW


def capped(emotion: Any, *inputs: Any) -> None:
    """A fused result is never surer than the surer of what went in, whichever fuser made
    it (one that sums two labels into one would otherwise make a flat reading sure)."""
    given = [confidence_of(part) for part in inputs if part is not None]
    if emotion is not None and given and hasattr(emotion, "confidence"):
        emotion.confidence = min(confidence_of(emotion), max(given))


def _ms(since: float) -> float:
    return (time.perf_counter() - since) * 1000.0


@dataclass
class Heard:
    """A batch after the transcriber, with the audio analyser's results to come."""

    batch: list[Utterance]
    texts: list[str | None]  # None: not transcribed; "": heard, but no words
    languages: list[str | None]
    audio: Future | None  # (results, ms) of the audio analyser; None when it is off
    timing: dict[str, float] = field(default_factory=dict)
    # read early (speculation): the events, and the counts to make when they are used
    events: list | None = None
    counts: list[tuple[str, float]] = field(default_factory=list)


class Analysis:
    """The analysis of one stream, with its (possibly shared) analysers; results and
    errors go to ``out`` (counters, error statuses)."""

    def __init__(
        self,
        analysers: Analysers,
        out: Emission,
        beside: Executor | None = None,
        *,
        live_words: bool = False,
    ):
        self.analysers = analysers
        self.out = out
        self.stream = out.stream
        self._beside = beside
        self.live_words = live_words  # partials carry the words so far
        self._prefix = StablePrefix()  # of the utterance in progress (partials thread)
        self._last_text_emotion: Any = None  # of the words last heard
        # the partials' words and the utterances take turns at the text analyser: a
        # tokenizer is not thread-safe (serve's shared one has its own queue as well)
        self._text_turn = threading.Lock()

    def analyse(self, batch: list[Utterance]) -> list[UtteranceEvent | None]:
        """Hear, then read: one event (or None: skipped) per utterance, in order."""
        return self.read(self.hear(batch))

    def hear(self, batch: list[Utterance]) -> Heard:
        """The transcriber on the batch, the audio analyser started beside it."""
        n = len(batch)
        ids = [utt.id for utt in batch]
        audios = [utt.audio for utt in batch]
        heard = Heard(batch, [None] * n, [None] * n, None, {"batch": n} if n > 1 else {})
        if self.analysers.has("audio"):
            heard.audio = self._start(self._audio, audios, ids)
        if self.analysers.has("transcriber"):
            t0 = time.perf_counter()
            transcriber = self.analysers.transcriber
            # parts of a cut monologue get the audio across their cuts (Utterance.span)
            if any(utt.start_cut is not None or utt.end_cut is not None for utt in batch):
                method, items = "transcribe_span", [utt.span() for utt in batch]
            else:
                method, items = "transcribe", audios
            transcripts = self.each(transcriber, method, items, ids, "transcriber")
            heard.timing["transcribe_ms"] = _ms(t0) / n
            for i, transcript in enumerate(transcripts):
                if transcript is not None:
                    # punctuation alone (Whisper's "." on a hum) is no words
                    heard.texts[i] = transcript.text if has_words(transcript.text) else ""
                    heard.languages[i] = transcript.language
        return heard

    def read(self, heard: Heard, *, early: bool = False) -> list[UtteranceEvent | None]:
        """Text emotion of what was heard, the voice's result, fused into events.
        ``early``: a speculation, kept in ``heard`` and counted only when it is read
        again (used); a dropped one counts nothing."""
        if heard.events is not None:
            for key, n in heard.counts:
                self.out.count(key, n)
            return heard.events
        count = (lambda key, n=1: heard.counts.append((key, n))) if early else self.out.count
        batch, texts, timing = heard.batch, heard.texts, heard.timing
        n = len(batch)
        text_emotions: list[Any] = [None] * n
        audio_emotions: list[Any] = [None] * n
        spoken = [i for i, text in enumerate(texts) if text]
        if self.analysers.has("text") and spoken:
            text = self.analysers.text  # may still be loading
            t0 = time.perf_counter()
            ids = [batch[i].id for i in spoken]
            with self._text_turn:
                read = self.each(text, "analyse", [texts[i] for i in spoken], ids, "text analyser")
            timing["text_ms"] = _ms(t0) / len(spoken)
            for i, emotion in zip(spoken, read, strict=True):
                text_emotions[i] = emotion
        if heard.audio is not None:
            audio_emotions, audio_ms = heard.audio.result()
            timing["audio_ms"] = audio_ms / n
        fuser = self.analysers.fuser
        events: list[UtteranceEvent | None] = []
        for i, utt in enumerate(batch):
            if skip(texts[i], audio_emotions[i]):
                count("skipped_no_speech")
                count("skipped_no_speech_s", (utt.end - utt.start) / SAMPLE_RATE)
                events.append(None)
                continue
            emotion = None
            if fuser is not None:
                try:
                    emotion = fuser.fuse(text_emotions[i], audio_emotions[i])
                    capped(emotion, text_emotions[i], audio_emotions[i])
                except Exception as exc:
                    self.out.report_error(f"fusion (utterance {utt.id})", exc)
            count("utterances")
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
                    latency_ms=0.0,  # stamped when it leaves (Emission.emit)
                    timing=dict(timing),
                )
            )
        if early:
            heard.events = events
        return events

    def partial(
        self, item: Partial, words: bool = True, heard: str | None = None
    ) -> PartialEvent | None:
        """The voice of speech still in progress and, with live words, the words heard
        so far with their stable prefix and text emotion; None when nothing could be
        analysed (the voice failed and there are no words). ``words=False``: Whisper is
        busy with an utterance that ended, which goes first: the words of the last hop
        are sent again, not heard anew. ``heard``: the words so far, already heard (by a
        speculation), taken instead of a draft of its own."""
        emotion = None
        voice_failed = False
        if self.analysers.has("audio"):
            audio = self.analysers.audio  # a model that failed to load raises: the run ends
            try:
                emotion = audio.analyse_latest(item.audio)
            except Exception as exc:
                self.out.report_error("voice (partial)", exc)
                voice_failed = True
        if words or heard is not None:
            text, stable, text_emotion = self._words(item, heard)
        else:
            text, stable, text_emotion = self._last_words(item)
        if voice_failed and text is None:
            return None
        self.out.count("partials")
        start, end = item.start / SAMPLE_RATE, item.end / SAMPLE_RATE
        return PartialEvent(self.stream, item.id, start, end, emotion, text, stable, text_emotion)

    def _last_words(self, item: Partial) -> tuple[str | None, int, Any]:
        shown = self._prefix.current(item.id) if self.live_words else None
        if shown is None:
            return None, 0, None
        return " ".join(shown[0]), shown[1], self._last_text_emotion

    def _words(self, item: Partial, heard: str | None = None) -> tuple[str | None, int, Any]:
        """The words so far (None: live words off or not heard), how many are stable,
        and their text emotion."""
        if not self.live_words or item.so_far is None or not self.analysers.has("transcriber"):
            return None, 0, None
        if heard is None:
            try:
                heard = self.analysers.transcriber.transcribe_draft(item.so_far).text
            except Exception as exc:
                self.out.report_error(f"transcriber (partial of utterance {item.id})", exc)
                return None, 0, None
        words, stable = self._prefix.update(item.id, heard if has_words(heard) else "")
        text = " ".join(words)
        text_emotion = None
        if text and self.analysers.has("text"):
            try:
                analyser = self.analysers.text  # may still be loading: not under the lock
                with self._text_turn:
                    text_emotion = analyser.analyse(text)
            except Exception as exc:
                self.out.report_error(f"text analyser (partial of utterance {item.id})", exc)
        self._last_text_emotion = text_emotion
        return text, stable, text_emotion

    def each(self, stage: Any, method: str, items: list, ids: list[int], what: str) -> list:
        """``stage.<method>_many`` over several items at once, ``stage.<method>`` over one.

        One result per item, None where the stage failed on that item: a failed
        batch is retried item by item, so an error names its own utterance.
        """
        if len(items) > 1:
            try:
                results = list(getattr(stage, f"{method}_many")(items))
                if len(results) == len(items):
                    return results
                raise ValueError(f"returned {len(results)} results for {len(items)} inputs")
            except Withdrawn:
                raise  # a speculation nobody wants any more: not a failure
            except Exception as exc:
                log.warning("%s: %s_many failed (%s); one by one instead", what, method, exc)
        one = getattr(stage, method)
        results = []
        for item, uid in zip(items, ids, strict=True):
            try:
                results.append(one(item))
            except Withdrawn:
                raise
            except Exception as exc:
                self.out.report_error(f"{what} (utterance {uid})", exc)
                results.append(None)
        return results

    def _audio(self, audios: list, ids: list[int]) -> tuple[list, float]:
        audio = self.analysers.audio  # may still be loading: wait here, not in Whisper's way
        t0 = time.perf_counter()
        return self.each(audio, "analyse", audios, ids, "voice analyser"), _ms(t0)

    def _start(self, fn: Callable[..., Any], *args: Any) -> Future:
        """``fn(*args)`` on the executor beside, or now, as a Future either way."""
        if self._beside is not None:  # with this thread's context: its urgency goes along
            return self._beside.submit(contextvars.copy_context().run, fn, *args)
        done: Future = Future()
        try:
            done.set_result(fn(*args))
        except BaseException as exc:
            done.set_exception(exc)
        return done
