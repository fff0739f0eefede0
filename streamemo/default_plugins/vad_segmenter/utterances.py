"""The utterance logic both segmenters share, over a per-frame "voiced?" decision (a
``Detector``, ``detector.py``): cut the stream into utterances on the audio clock.

Speech starts when most frames of a short window are voiced (the start is the first
voiced frame of that window); it ends when the hangover window is almost all silence (the
end is the last frame that still counted as speech). Pre-roll and a short tail are added
to the audio handed to the transcriber, not to the reported times.

For the end, a frame counts as speech only if the detector calls it voiced *and* it is loud
enough: at most ``end_drop_db`` below the loud part of this utterance and at least
``end_snr_db`` above the background heard before it. webrtcvad keeps calling frames voiced
for ~100 ms after speech stops (its own smoothing); without the level test the hangover
would start counting that late. A monologue is cut at ``max_utterance_s`` (``cuts.py``).

Speculation: with ``pauses`` set (the runner sets it under ``[pipeline] speculate``), a
``Pause`` comes once a pause has lasted ``pause_ms`` (90): the utterance as it would be if
it ended there, its tail padded with zeros where it has not been heard yet. The runner
hears it at once and may call ``hint(id, end, text)`` with what it heard. Adaptive
hangover (``adaptive_hangover``, on by default): words that end a sentence ("... today.")
end this pause after ``hangover_short_ms`` of silence (at most ``hangover_ms``); words that
trail off ("... and", a comma) need ``hangover_long_ms`` (at least ``hangover_ms``); any
other words, or no hint, the usual hangover. A hint applies to that pause only, from the
next frame on; speech that resumes ends the pause and its hint.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Iterator

import numpy as np

from streamemo.api import (
    SAMPLE_RATE,
    Block,
    Cut,
    Partial,
    Pause,
    Segmenter,
    Utterance,
)
from streamemo.default_plugins.vad_segmenter import options
from streamemo.default_plugins.vad_segmenter.cuts import across, quietest, split
from streamemo.default_plugins.vad_segmenter.detector import Detector
from streamemo.default_plugins.vad_segmenter.endings import ending
from streamemo.default_plugins.vad_segmenter.frame import Frame, level_db


class UtteranceSegmenter(Segmenter):
    """The utterance logic over any detector; the options here are shared by both."""

    def __init__(
        self,
        detector: Detector,
        /,
        *,
        start_ms: int = 150,
        start_ratio: float = 0.8,
        hangover_ms: int = 600,
        end_ratio: float = 0.1,
        preroll_ms: int = 200,
        tail_ms: int = 300,
        end_drop_db: float = 35.0,
        end_snr_db: float = 6.0,
        min_utterance_ms: int = 250,
        max_utterance_s: float = 20.0,
        cut_search_s: float = 3.0,
        cut_context_s: float = 1.0,
        partial_hop_s: float = 1.0,
        partial_first_s: float = 0.5,
        partial_window_s: float = 3.3,
        adaptive_hangover: bool = True,
        hangover_short_ms: int = 300,
        hangover_long_ms: int = 900,
        pause_ms: int = 90,
    ):
        options.check(
            min_utterance_ms=min_utterance_ms,
            max_utterance_s=max_utterance_s,
            end_drop_db=end_drop_db,
            end_snr_db=end_snr_db,
            cut_search_s=cut_search_s,
            cut_context_s=cut_context_s,
            adaptive_hangover=adaptive_hangover,
            hangover_short_ms=hangover_short_ms,
            hangover_long_ms=hangover_long_ms,
            pause_ms=pause_ms,
            partial_first_s=partial_first_s,
        )
        self.detector = detector
        frame_ms = detector.frame_ms
        self.frame = SAMPLE_RATE * frame_ms // 1000

        def frames(ms: float) -> int:
            return max(1, round(ms / frame_ms))

        self.start_frames = frames(start_ms)
        self.start_needed = max(1, round(start_ratio * self.start_frames))
        self.hangover_frames = frames(hangover_ms)
        self.end_allowed = int(end_ratio * self.hangover_frames)
        self.preroll = SAMPLE_RATE * preroll_ms // 1000
        self.tail = SAMPLE_RATE * tail_ms // 1000
        # Whisper takes ~0.4 s on tiny.en: started at the tail's end, it would finish
        # after the usual hangover; started this soon, its words can end the pause early
        self.pause_wait = frames(pause_ms) * self.frame
        self.end_drop_db = float(end_drop_db)
        self.end_snr_db = float(end_snr_db)
        self.min_samples = SAMPLE_RATE * min_utterance_ms // 1000
        self.max_samples = int(SAMPLE_RATE * max_utterance_s)
        # a cut lies in the quietest stretch of this window before the limit, and the
        # transcriber hears ``cut_context`` samples across it (see _cut)
        self.cut_search = int(SAMPLE_RATE * min(cut_search_s, max_utterance_s / 2))
        self.cut_context = int(SAMPLE_RATE * cut_context_s)
        self.cut_latest = min(self.cut_context, self.cut_search // 3)  # before the limit
        self.partial_hop = int(SAMPLE_RATE * partial_hop_s)
        # the first words sooner: Whisper hears a word or two in half a second of speech
        self.partial_first = min(self.partial_hop, int(SAMPLE_RATE * partial_first_s))
        self.partial_window = int(SAMPLE_RATE * partial_window_s)

        self._pending = np.zeros(0, np.int16)
        self._pos = 0  # stream sample index of the next frame
        # silence before speech: enough for the start window plus pre-roll
        self._before: deque[Frame] = deque(maxlen=self.start_frames + frames(preroll_ms) + 1)
        self._speech: list[Frame] = []  # frames of the utterance in progress
        self._recent: deque[bool] = deque(maxlen=self.hangover_frames)
        self._speech_start = 0
        self._audio_start = 0
        self._last_loud: Frame | None = None
        # levels of the frames outside utterances (start, dBFS): the background
        self._background: deque[tuple[int, float]] = deque(maxlen=frames(3000))
        self._floor = -math.inf  # the background level before this utterance
        self._peak = -math.inf  # the loud part of this utterance
        self._levels: deque[float] = deque(maxlen=frames(90))
        self._next_partial = 0
        self._next_id = 1
        self._carried: Cut | None = None  # the cut that the utterance in progress goes on from
        # speculation (see the module docstring): the pause in progress and its hint
        self.pauses = False  # yield a Pause when speech pauses (set by the runner)
        self.adaptive = adaptive_hangover
        self.short_wait = frames(min(hangover_short_ms, hangover_ms)) * self.frame  # samples
        self.long_wait = frames(max(hangover_long_ms, hangover_ms)) * self.frame
        self._pause: int | None = None  # end sample of the speech before the pause
        self._pause_last: Frame | None = None  # its last loud frame
        self._blips = 0  # loud frames since the pause began (the end rule allows a few)
        self._paused_sent = False
        self._wait: int | None = None  # the hinted silence for this pause, in samples
        self._hints: dict[tuple[int, int], int] = {}  # (id, end) -> samples, from hint()
        self._hint_lock = threading.Lock()  # hint() comes from the runner's thread

    @property
    def speaking(self) -> bool:
        return bool(self._speech)

    def feed(self, block: Block) -> Iterator[Utterance | Partial]:
        data = (
            np.concatenate((self._pending, block.samples)) if len(self._pending) else block.samples
        )
        usable = len(data) - len(data) % self.frame
        self._pending = data[usable:].copy()
        for i in range(0, usable, self.frame):
            samples = data[i : i + self.frame]
            voiced = self.detector.is_speech(samples)
            frame = Frame(self._pos, samples, voiced, block.arrived, level_db(samples))
            self._pos += self.frame
            yield from self._step(frame)

    def flush(self) -> Iterator[Utterance]:
        """End of stream: finish the utterance in progress."""
        if self._speech:
            yield from self._end(self._last_loud)

    def _step(self, frame: Frame) -> Iterator[Utterance | Partial]:
        if not self._speech:
            self._before.append(frame)
            self._background.append((frame.start, frame.level))
            window = list(self._before)[-self.start_frames :]
            if sum(f.voiced for f in window) >= self.start_needed:
                self._begin(window)
            return
        self._speech.append(frame)
        self._judge(frame)
        self._recent.append(frame.loud)
        if self.pauses:
            self._track_pause(frame)
            if self._wait is not None and self._pos - self._pause >= self._wait:
                yield from self._end(self._pause_last)  # the hinted silence is over
                return
        # a pause that trails off waits for its longer silence, not the usual hangover
        waiting_longer = self._wait is not None and self._wait > self.hangover_frames * self.frame
        if (
            len(self._recent) == self.hangover_frames
            and sum(self._recent) <= self.end_allowed
            and not waiting_longer
        ):
            # speech ended at the window's first quiet frame: a loud blip after it is not speech
            i = len(self._speech) - self.hangover_frames
            while i < len(self._speech) and self._speech[i].loud:
                i += 1
            yield from self._end(next((f for f in reversed(self._speech[:i]) if f.loud), None))
            return
        if self._pos - self._speech_start >= self.max_samples:
            yield from self._cut()
            return
        if self.pauses and (pause := self._pause_now()) is not None:
            yield pause
        # no partial in a pause: the words so far are being heard by the speculation
        paused = self.pauses and self._pause is not None
        if self.partial_hop and self._pos >= self._next_partial and not paused:
            self._next_partial = self._pos + self.partial_hop
            so_far = np.concatenate([f.samples for f in self._speech])
            window = so_far[-self.partial_window :]
            yield Partial(self._next_id, self._speech_start, self._pos, window, so_far)

    def hint(self, id: int, end: int, text: str) -> None:
        """What the runner heard in the ``Pause`` (``id``, ``end``): whether it ends a
        sentence sets this pause's hangover (any thread; from the next frame on)."""
        if not self.adaptive:
            return
        kind = ending(text)
        wait = {"ends": self.short_wait, "trails": self.long_wait}.get(kind or "")
        if wait is not None:
            with self._hint_lock:
                self._hints = {(id, end): wait}  # only the newest pause can use one

    def _track_pause(self, frame: Frame) -> None:
        """Note where a pause begins (the first frame no longer loud after a loud one),
        and take its hint. Speech resumes (the pause is over) at more loud frames than
        the end rule lets a hangover window hold (``end_ratio``): fewer are blips, and
        the utterance would still end where the pause began."""
        if frame.loud:
            if self._pause is None:
                return
            self._blips += 1
            if self._blips <= self.end_allowed:
                return
            if self._wait is not None and self._wait > self.hangover_frames * self.frame:
                # speech resumed after waiting longer than the usual hangover: its window
                # is all silence, which must not end the utterance now it goes on
                self._recent.clear()
                self._recent.append(True)
            self._pause, self._paused_sent, self._wait = None, False, None
            return
        if self._pause is None and self._last_loud is not None:
            self._pause = self._last_loud.start + len(self._last_loud.samples)
            self._pause_last, self._blips = self._last_loud, 0
        if self._pause is not None and self._wait is None and self._hints:
            with self._hint_lock:
                self._wait = self._hints.pop((self._next_id, self._pause), None)

    def _pause_now(self) -> Pause | None:
        """The Pause, once this pause has lasted ``pause_ms`` (sent once per pause)."""
        if self._pause is None or self._paused_sent or self._pos < self._pause + self.pause_wait:
            return None
        self._paused_sent = True
        end, last = self._pause, self._pause_last
        if end - self._speech_start < self.min_samples and self._carried is None:
            return None  # too short to be an utterance yet (as in _finish)
        audio = np.concatenate([f.samples for f in self._speech])
        whole = end + self.tail - self._audio_start  # the Utterance's length, tail included
        heard = min(len(audio), whole)
        audio = np.pad(audio[:heard], (0, whole - heard))  # the tail not heard yet: silence
        ended_at = last.arrived if last is not None else 0.0
        return Pause(self._next_id, self._speech_start, end, audio, ended_at, self._carried, heard)

    def _reset_pause(self) -> None:
        self._pause, self._paused_sent, self._wait = None, False, None
        with self._hint_lock:
            self._hints = {}

    def _begin(self, window: list[Frame]) -> None:
        first = next(f for f in window if f.voiced)
        frames = list(self._before)
        keep_from = first.start - self.preroll
        self._speech = [f for f in frames if f.start + self.frame > keep_from]
        self._before.clear()
        self._speech_start = first.start
        self._audio_start = self._speech[0].start
        # the background is what came before the first voiced frame
        while self._background and self._background[-1][0] >= first.start:
            self._background.pop()
        levels = [level for _, level in self._background]
        self._floor = float(np.median(levels)) if levels else -math.inf
        self._peak = -math.inf
        self._levels.clear()
        self._last_loud = None
        self._recent.clear()
        for f in frames:
            if f.start >= first.start:
                self._judge(f)
                self._recent.append(f.loud)
        self._next_partial = self._speech_start + self.partial_first

    def _judge(self, frame: Frame) -> None:
        """Whether the frame counts as speech for the end decision."""
        self._levels.append(frame.level)
        if frame.voiced:  # the level held for ~90 ms: a click does not set it
            self._peak = max(self._peak, min(self._levels))
        threshold = max(self._peak - self.end_drop_db, self._floor + self.end_snr_db)
        frame.loud = frame.voiced and frame.level >= threshold
        if frame.loud:
            self._last_loud = frame

    def _end(self, last: Frame | None) -> Iterator[Utterance]:
        """Speech is over; its last loud frame was ``last`` (None: nothing was loud)."""
        end = self._speech_start if last is None else last.start + len(last.samples)
        utterance = self._finish(end, cut=False, ended_at=last.arrived if last else 0.0)
        if utterance is not None:
            yield utterance

    def _finish(
        self, end: int, *, cut: bool, ended_at: float, end_cut: Cut | None = None
    ) -> Utterance | None:
        frames, self._speech = self._speech, []
        start_cut, self._carried = self._carried, None
        self._recent.clear()
        self._reset_pause()
        if not cut:
            rest = [f for f in frames if f.start >= end]
            # that was background; and speech may start again within it
            self._background.extend((f.start, f.level) for f in rest)
            self._before.extend(rest)
        too_short = end - self._speech_start < self.min_samples and start_cut is None
        if end <= self._speech_start or too_short:
            return None  # a click or a cough, not an utterance (the rest of a cut one is kept)
        audio = np.concatenate([f.samples for f in frames])
        stop = min(len(audio), end + (0 if cut else self.tail) - self._audio_start)
        utterance = Utterance(
            id=self._next_id,
            start=self._speech_start,
            end=end,
            audio=audio[:stop],
            ended_at=ended_at,
            cut=cut,
            start_cut=start_cut,
            end_cut=end_cut,
        )
        self._next_id += 1
        return utterance

    def _cut(self) -> Iterator[Utterance]:
        """Cut a long monologue where it is quietest in the last ``cut_search`` samples
        before the limit, and go on with the rest as the next utterance.

        The cut lies at least ``cut_latest`` before the limit, so the audio just after it
        is already here. Both parts carry a Cut with the audio on either side of it, so
        that a transcriber hears a word at the cut whole (see the whisper plugin's seams.py).
        """
        audio = np.concatenate([f.samples for f in self._speech])
        shortest = self._speech_start - self._audio_start + self.min_samples
        lo = max(shortest, len(audio) - self.cut_search)
        at = quietest(audio, lo, len(audio) - self.cut_latest)
        end = self._audio_start + at
        self._speech, rest = split(self._speech, end)
        seam = across(audio, at, self.cut_context) if self.cut_context else None
        utterance = self._finish(end, cut=True, ended_at=self._speech[-1].arrived, end_cut=seam)
        self._carried = seam if utterance is not None else None
        # speech goes on: the next utterance starts exactly where this one stopped
        self._speech = rest
        self._speech_start = self._audio_start = end
        self._last_loud = next((f for f in reversed(rest) if f.loud), None)
        self._recent.extend(f.loud for f in rest)
        self._next_partial = end + self.partial_first
        if utterance is not None:
            yield utterance
