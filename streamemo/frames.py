"""What flows between the stages: blocks of samples and notices from a source,
utterances (with the cuts of a long monologue) and partials from a segmenter, and
transcripts. Audio is 16 kHz mono ``int16`` everywhere (``SAMPLE_RATE``)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

SAMPLE_RATE = 16_000


@dataclass(slots=True)
class Block:
    """A run of captured samples and the wall-clock time it arrived."""

    samples: np.ndarray  # int16, mono, 16 kHz
    arrived: float  # time.monotonic()


@dataclass(slots=True)
class Notice:
    """Something a source wants the user to see; it becomes a ``status`` event."""

    state: str  # "listening", "overflow", "device-lost", ...
    message: str | None = None
    stream_start: float | None = None  # Unix time of stream second 0 (live sources)


@dataclass(slots=True)
class Utterance:
    """One stretch of speech, on the stream's audio clock."""

    id: int
    start: int  # first voiced sample, counted from the stream start
    end: int  # one past the last voiced sample
    audio: np.ndarray  # int16 samples, including pre-roll and tail padding
    ended_at: float  # monotonic time the last voiced sample arrived
    cut: bool = False  # True when cut at the maximum length; speech goes on
    # Where a max_utterance_s cut began or ended this part: a transcriber with
    # ``transcribe_span`` then hears the audio across the cut too, so a word at the cut
    # is heard whole. ``audio`` itself never crosses a cut: the voice model and the
    # times see only this part.
    start_cut: Cut | None = None  # this part goes on from the one before
    end_cut: Cut | None = None  # the next part goes on from this one

    def span(self) -> Span:
        """The audio to hear, with the audio across its cuts around it."""
        before = self.start_cut.before if self.start_cut is not None else self.audio[:0]
        after = self.end_cut.after if self.end_cut is not None else self.audio[:0]
        audio = (
            np.concatenate((before, self.audio, after)) if len(before) + len(after) else self.audio
        )
        start = len(before)
        return Span(audio, start, start + len(self.audio), self.start_cut, self.end_cut)


@dataclass(slots=True, eq=False)
class Cut:
    """A cut in a long monologue, shared by the part before it and the part after it."""

    before: np.ndarray  # int16: the last samples before the cut
    after: np.ndarray  # int16: the first samples after it
    # Noted by the transcriber of the part before, for the one of the part after, so
    # that they agree on which words each keeps (see the whisper plugin's seams.py): the words it
    # kept from ``before``, and the words it heard in ``after`` and left to the next.
    kept: list[str] | None = None
    left: list[str] | None = None


@dataclass(slots=True)
class Span:
    """What ``transcribe_span`` gets: audio, of which ``[start, end)`` is the
    utterance's own and the rest lies across its cuts. It hears all of it and keeps
    only its own words: the others are kept by the neighbour."""

    audio: np.ndarray  # int16, 16 kHz
    start: int  # sample index in ``audio`` where the utterance's own audio begins
    end: int  # one past its last sample
    start_cut: Cut | None = None
    end_cut: Cut | None = None

    @property
    def context(self) -> bool:
        """Whether there is audio beyond the utterance's own."""
        return self.start > 0 or self.end < len(self.audio)


@dataclass(slots=True)
class Partial:
    """Speech still in progress: the newest audio, for a live voice estimate, and the
    utterance's audio so far, for the words heard so far (live words)."""

    id: int  # the id the utterance will have
    start: int
    end: int
    audio: np.ndarray  # int16, the newest samples of the utterance (the voice's window)
    so_far: np.ndarray | None = None  # int16, all of it so far, pre-roll included


@dataclass(slots=True)
class Transcript:
    text: str
    language: str | None
    extra: dict = field(default_factory=dict)


@dataclass(slots=True)
class Pause:
    """Speech has paused (the hangover has begun): the utterance as it would be if it
    ended now, with the same ``start``/``end``, pre-roll and tail. The runner may hear it
    at once, speculatively; when the ``Utterance`` that comes equals it, that work is its
    result. Speech that resumes makes it moot. A Pause may come before its tail has been
    heard: ``audio`` then holds zeros after its first ``heard`` samples."""

    id: int  # the id the utterance will have
    start: int
    end: int  # one past the last voiced sample, were it the end
    audio: np.ndarray  # int16, pre-roll and tail included, as long as the Utterance's
    ended_at: float  # monotonic time the last voiced sample arrived
    start_cut: Cut | None = None  # this part goes on from the one before (a cut monologue)
    heard: int | None = None  # samples of ``audio`` heard so far (None: all of it)

    def as_utterance(self) -> Utterance:
        return Utterance(
            self.id, self.start, self.end, self.audio, self.ended_at, start_cut=self.start_cut
        )

    def matches(self, utt: Utterance) -> bool:
        """Whether ``utt`` is the utterance this pause foresaw: same times, cuts, length,
        and the same audio as far as the pause had heard it (the rest is its quiet tail)."""
        heard = len(self.audio) if self.heard is None else self.heard
        return (
            utt.id == self.id
            and utt.start == self.start
            and utt.end == self.end
            and not utt.cut
            and utt.end_cut is None
            and utt.start_cut is self.start_cut
            and len(utt.audio) == len(self.audio)
            and np.array_equal(utt.audio[:heard], self.audio[:heard])
        )
