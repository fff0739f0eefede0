"""The stage contract: one base class per stage kind.

A plugin's factory (``register(name, factory)`` in a ``register_*`` hook) returns a stage
object. Subclass the base class of its kind: the abstract methods are what it must
provide, everything else is an optional capability with the default shown. An object
that does not subclass works too (duck typing): ``streamemo.contract.conform`` checks it
at start-up, before audio flows, and supplies the defaults it lacks.

Audio is 16 kHz mono ``int16`` numpy arrays everywhere (``streamemo.frames``). Which
thread calls what, and what ``serve`` shares between streams, is said on each class and
in docs/plugins/. In short (``streamemo run``): the source's ``blocks`` on the thread
"source", the segmenter on "segmenter", the transcriber on "hearing", the audio
analyser's ``analyse`` on "voice" (beside the transcriber) and ``analyse_latest`` on
"partials", the text analyser and fuser on "reading", each sink on a thread of its own.
Under ``serve`` every stream has its own source, segmenter and threads, while the
transcriber, the text and audio analysers and the fuser are built once and shared: calls
that different streams make at about the same time reach a stage as one ``*_many`` call
(``[serve] batch_max``), so a stage that batches well serves more streams.

A ``*_many`` method gets the utterances that wait together (a file read faster than real
time, a backlog) and returns one result per input, in order; it raises only when the
whole batch failed (the engine then retries one by one, so an error names its utterance).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping, Sequence
from types import MappingProxyType
from typing import ClassVar

import numpy as np

from streamemo.events import AudioEmotion, Emotion, Event, TextEmotion
from streamemo.frames import Block, Notice, Partial, Span, Transcript, Utterance

KINDS = ("source", "segmenter", "transcriber", "text", "audio", "fuser", "sink")


class Source(ABC):
    """Where audio comes from. One per stream, also under ``serve``.

    ``blocks()`` runs on the thread "source" and yields ``Block`` (``int16`` samples,
    16 kHz mono, any length) and ``Notice`` (becomes a ``status`` event) until the audio
    ends or ``stop()`` is called. ``stop()`` may be called from any thread, more than once
    (Ctrl-C, a stage that died): it must make ``blocks()`` end soon; what was already
    yielded is still analysed. A factory with ``reads_files`` takes ``input=PATH``.
    Optional, where they apply (docs/plugins/source.md): ``devices()`` on the factory for
    ``streamemo devices``; ``offer(samples)``/``end()`` and a ``stream=`` factory argument
    for a source that ``serve`` pushes audio into.
    """

    name: str = "stream"  # the stream name put in every event
    # True: a live device (level events are sent, batches never wait to fill); False: a
    # file read as fast as it decodes (each batch fills up: runs are reproducible);
    # None: neither (a network stream, most third-party sources).
    live: bool | None = None
    # True: the CLI's --input goes to the factory as input=PATH (and realtime=, when the
    # factory takes it).
    reads_files: ClassVar[bool] = False
    # shown on the console, sent in status events' counters; read from other threads, so
    # replace or update it, never leave it half-written. Assign your own dict in __init__.
    counters: Mapping[str, int] = MappingProxyType({})

    @abstractmethod
    def blocks(self) -> Iterator[Block | Notice]:
        """The audio, block by block; blocking while none is ready is fine."""

    @abstractmethod
    def stop(self) -> None:
        """End ``blocks()`` soon; thread-safe and idempotent."""


class Segmenter(ABC):
    """Cuts one stream into utterances. One per stream, on the thread "segmenter".

    ``feed`` gets every block in order and returns (or yields) the utterances it
    finished and, while speech goes on, ``Partial`` items (the newest window of the
    speech in progress, for a live voice estimate). An ``Utterance`` carries its samples
    including the pre-roll before the first voiced sample and the tail padding after the
    last one; ``start``/``end`` are the voiced samples counted from the stream start.
    """

    # read after every block (level events of a live source): True while in speech
    speaking: bool = False

    @abstractmethod
    def feed(self, block: Block) -> Iterable[Utterance | Partial]:
        """What this block finished; usually nothing."""

    @abstractmethod
    def flush(self) -> Iterable[Utterance | Partial]:
        """The audio has ended: the utterance in progress, if any."""


class Transcriber(ABC):
    """Speech to text, on the thread "hearing" (the audio analyser runs beside it).

    Under ``serve`` one transcriber is shared by every stream: at most ``num_workers``
    calls run at once, from different streams' threads, and utterances of different
    streams that wait together come as one ``transcribe_many``.
    """

    num_workers: int = 1  # calls serve may run at once; more than 1 must be thread-safe

    @abstractmethod
    def transcribe(self, audio: np.ndarray) -> Transcript:
        """An utterance's audio (``int16``, with its pre-roll and tail padding)."""

    def transcribe_many(self, audios: Sequence[np.ndarray]) -> list[Transcript]:
        """Utterances waiting together; default: one by one."""
        return [self.transcribe(audio) for audio in audios]

    def transcribe_draft(self, audio: np.ndarray) -> Transcript:
        """Speech still in progress, heard again every second for the live words: may be
        quicker and rougher than ``transcribe`` (the final one). Default: ``transcribe``."""
        return self.transcribe(audio)

    def transcribe_span(self, span: Span) -> Transcript:
        """A part of a monologue cut at ``max_utterance_s``, with the audio across its
        cuts around it (``Span``: ``audio[start:end]`` is its own). Default: its own audio
        alone. Keep only the part's own words: the neighbour keeps the others."""
        return self.transcribe(span.audio[span.start : span.end])

    def transcribe_span_many(self, spans: Sequence[Span]) -> list[Transcript]:
        """Spans waiting together; default: one by one through ``transcribe_span`` when
        it is overridden, else their own audio through ``transcribe_many`` (batched)."""
        if type(self).transcribe_span is not Transcriber.transcribe_span:
            return [self.transcribe_span(span) for span in spans]
        return self.transcribe_many([span.audio[span.start : span.end] for span in spans])


class TextAnalyser(ABC):
    """Emotion from the transcript, on the thread "reading", after the transcriber.

    Gets only text with words in it. Under ``serve`` one is shared by every stream and
    called once at a time, with the texts of several streams in one ``analyse_many``.
    """

    @abstractmethod
    def analyse(self, text: str) -> TextEmotion | None:
        """The text's emotion, or None for none."""

    def analyse_many(self, texts: Sequence[str]) -> list[TextEmotion | None]:
        """Texts waiting together; default: one by one."""
        return [self.analyse(text) for text in texts]


class AudioAnalyser(ABC):
    """The voice's emotion, from ``int16`` 16 kHz mono samples.

    ``analyse``/``analyse_many`` get whole utterances (with pre-roll and tail padding)
    on the thread "voice", while the transcriber hears the same batch. ``analyse_latest``
    gets the newest window of speech still in progress (``Partial.audio``) on the thread
    "partials", whenever the segmenter yields one: under ``run`` it may be called while
    ``analyse`` runs, so the two must be safe together. Under ``serve`` one is shared by
    every stream and its calls take turns, one at a time; utterances of several streams
    come as one ``analyse_many``.
    """

    @abstractmethod
    def analyse(self, audio: np.ndarray) -> AudioEmotion:
        """A whole utterance."""

    def analyse_latest(self, audio: np.ndarray) -> AudioEmotion:
        """The newest window of speech in progress; default: ``analyse``. Override it
        when a partial should be read differently (a shorter window, a cheaper model)."""
        return self.analyse(audio)

    def analyse_many(self, audios: Sequence[np.ndarray]) -> list[AudioEmotion]:
        """Utterances waiting together; default: one by one."""
        return [self.analyse(audio) for audio in audios]


class Fuser(ABC):
    """One emotion from the text's and the voice's, on the thread "reading".

    Either input may be None (that analysis off, failed, or no words). Under ``serve``
    one fuser is shared by every stream and called without a lock: keep no state.
    """

    @abstractmethod
    def fuse(self, text: TextEmotion | None, audio: AudioEmotion | None) -> Emotion | None:
        """The fused emotion, or None."""


class Sink(ABC):
    """Receives events (``streamemo.events``), each sink on its own thread behind its own
    bounded queue (``streamemo.sink_runner``): a slow sink holds back nothing else.

    ``write`` gets the events in order; one that raises is counted and the next comes
    anyway. ``close`` is called once, on the same thread, after the last ``write``. Under
    ``serve`` the sinks of ``[serve] sinks`` are built once and shared by every stream
    (events carry their ``stream``), still written from one thread.
    """

    # None: every event type; else e.g. frozenset({"utterance", "status"})
    event_types: frozenset[str] | None = None

    @abstractmethod
    def write(self, event: Event) -> None:
        """One event; keep it quick or the queue fills (a full queue drops events)."""

    def close(self) -> None:  # noqa: B027  (optional: most sinks hold nothing to close)
        """No more events: flush and release what the sink holds. Default: nothing."""


BASES: dict[str, type] = {
    "source": Source,
    "segmenter": Segmenter,
    "transcriber": Transcriber,
    "text": TextAnalyser,
    "audio": AudioAnalyser,
    "fuser": Fuser,
    "sink": Sink,
}
