"""What each kind of stage object must provide.

Factories registered through the hooks return objects that satisfy these
protocols. Audio between stages is 16 kHz mono: ``int16`` from sources and
segmenters, ``float32`` in [-1, 1] for the analysers (as librosa loads it).

Transcribers and analysers may also offer a ``*_many`` method. When several
utterances are waiting (a file read faster than real time, or a backlog), the
pipeline hands them over together so that the model can share the work; a
stage without the method gets them one by one. A ``*_many`` method returns
one result per input, in order, and raises only when the whole batch failed
(the pipeline then retries the utterances one by one).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol, runtime_checkable

import numpy as np

from streamemo.events import AudioEmotion, Emotion, Event, TextEmotion
from streamemo.frames import Block, Notice, Partial, Transcript, Utterance


@runtime_checkable
class Source(Protocol):
    name: str  # the stream name used in events

    def blocks(self) -> Iterator[Block | Notice]: ...

    def stop(self) -> None: ...


@runtime_checkable
class Segmenter(Protocol):
    def feed(self, block: Block) -> Iterator[Utterance | Partial]: ...

    def flush(self) -> Iterator[Utterance]: ...


@runtime_checkable
class Transcriber(Protocol):
    def transcribe(self, audio: np.ndarray) -> Transcript: ...

    # optional: def transcribe_many(self, audios: Sequence[np.ndarray]) -> list[Transcript]
    # optional, for utterances cut at max_utterance_s: the pipeline then hands over
    # Utterance.span() instead of the audio alone (see Span)
    #   def transcribe_span(self, span: Span) -> Transcript
    #   def transcribe_span_many(self, spans: Sequence[Span]) -> list[Transcript]


@runtime_checkable
class TextAnalyser(Protocol):
    def analyse(self, text: str) -> TextEmotion | None: ...

    # optional: def analyse_many(self, texts: Sequence[str]) -> list[TextEmotion | None]


@runtime_checkable
class AudioAnalyser(Protocol):
    def analyse(self, audio: np.ndarray) -> AudioEmotion: ...

    def analyse_latest(self, audio: np.ndarray) -> AudioEmotion: ...

    # optional: def analyse_many(self, audios: Sequence[np.ndarray]) -> list[AudioEmotion]


@runtime_checkable
class Fuser(Protocol):
    def fuse(self, text: TextEmotion | None, audio: AudioEmotion | None) -> Emotion | None: ...


@runtime_checkable
class Sink(Protocol):
    # None: every event type; otherwise e.g. {"utterance", "status"}
    event_types: frozenset[str] | None

    def write(self, event: Event) -> None: ...

    def close(self) -> None: ...
