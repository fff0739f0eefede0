"""The ``webrtcvad`` segmenter: cuts the stream into utterances on the audio clock.

Speech starts when most frames of a short window are voiced (the start is
the first voiced frame of that window); it ends when the hangover window is
almost all silence (the end is the last frame that still counted as speech).
Pre-roll and a short tail are added to the audio handed to Whisper, not to the
reported times.

For the end, a frame counts as speech only if webrtcvad calls it voiced *and*
it is loud enough: at most ``end_drop_db`` below the loud part of this
utterance and at least ``end_snr_db`` above the background heard before it.
webrtcvad keeps calling frames voiced for ~100 ms after speech stops (its own
smoothing); without the level test the hangover would start counting that late.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from streamemo import hookimpl
from streamemo.errors import ConfigError
from streamemo.frames import SAMPLE_RATE, Block, Cut, Partial, Utterance


@dataclass(slots=True)
class _Frame:
    start: int
    samples: np.ndarray
    voiced: bool
    arrived: float
    level: float  # dBFS
    loud: bool = False  # counts as speech for the end decision


def _level_db(samples: np.ndarray) -> float:
    x = samples.astype(np.float32)
    power = float(np.dot(x, x)) / len(x)
    return 10 * math.log10(max(power, 1.0) / 32768**2)  # 1 LSB rms (-90 dBFS) at the least


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _check_db(option: str, value: object, *, above_zero: bool) -> None:
    if not _is_number(value) or not (value > 0 if above_zero else value >= 0):
        least = "above 0" if above_zero else "0 or more"
        raise ConfigError(f"segmenter.{option} must be a number of dB, {least}, not {value!r}")


class VadSegmenter:
    def __init__(
        self,
        aggressiveness: int = 2,
        frame_ms: int = 30,
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
        partial_window_s: float = 3.3,
    ):
        import webrtcvad

        if frame_ms not in (10, 20, 30):
            raise ConfigError(
                f"segmenter.frame_ms must be 10, 20 or 30 (webrtcvad), not {frame_ms}"
            )
        if aggressiveness not in (0, 1, 2, 3):
            raise ConfigError(f"segmenter.aggressiveness must be 0-3, not {aggressiveness}")
        if max_utterance_s * 1000 <= min_utterance_ms:
            raise ConfigError("segmenter.max_utterance_s must be longer than min_utterance_ms")
        _check_db("end_drop_db", end_drop_db, above_zero=True)
        _check_db("end_snr_db", end_snr_db, above_zero=False)
        for option, value in (("cut_search_s", cut_search_s), ("cut_context_s", cut_context_s)):
            if not _is_number(value) or value < 0:
                raise ConfigError(f"segmenter.{option} must be a number of seconds, 0 or more")
        self.vad = webrtcvad.Vad(aggressiveness)
        self.frame = SAMPLE_RATE * frame_ms // 1000

        def frames(ms: float) -> int:
            return max(1, round(ms / frame_ms))

        self.start_frames = frames(start_ms)
        self.start_needed = max(1, round(start_ratio * self.start_frames))
        self.hangover_frames = frames(hangover_ms)
        self.end_allowed = int(end_ratio * self.hangover_frames)
        self.preroll = SAMPLE_RATE * preroll_ms // 1000
        self.tail = SAMPLE_RATE * tail_ms // 1000
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
        self.partial_window = int(SAMPLE_RATE * partial_window_s)

        self._pending = np.zeros(0, np.int16)
        self._pos = 0  # stream sample index of the next frame
        # silence before speech: enough for the start window plus pre-roll
        self._before: deque[_Frame] = deque(maxlen=self.start_frames + frames(preroll_ms) + 1)
        self._speech: list[_Frame] = []  # frames of the utterance in progress
        self._recent: deque[bool] = deque(maxlen=self.hangover_frames)
        self._speech_start = 0
        self._audio_start = 0
        self._last_loud: _Frame | None = None
        # levels of the frames outside utterances (start, dBFS): the background
        self._background: deque[tuple[int, float]] = deque(maxlen=frames(3000))
        self._floor = -math.inf  # the background level before this utterance
        self._peak = -math.inf  # the loud part of this utterance
        self._levels: deque[float] = deque(maxlen=frames(90))
        self._next_partial = 0
        self._next_id = 1
        self._carried: Cut | None = None  # the cut that the utterance in progress goes on from

    @property
    def speaking(self) -> bool:
        return bool(self._speech)

    # -- streaming -------------------------------------------------------
    def feed(self, block: Block) -> Iterator[Utterance | Partial]:
        data = (
            np.concatenate((self._pending, block.samples)) if len(self._pending) else block.samples
        )
        usable = len(data) - len(data) % self.frame
        self._pending = data[usable:].copy()
        for i in range(0, usable, self.frame):
            samples = data[i : i + self.frame]
            voiced = self.vad.is_speech(samples.tobytes(), SAMPLE_RATE)
            frame = _Frame(self._pos, samples, voiced, block.arrived, _level_db(samples))
            self._pos += self.frame
            yield from self._step(frame)

    def flush(self) -> Iterator[Utterance]:
        """End of stream: finish the utterance in progress."""
        if self._speech:
            yield from self._end(self._last_loud)

    # -- state machine ----------------------------------------------------
    def _step(self, frame: _Frame) -> Iterator[Utterance | Partial]:
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
        if len(self._recent) == self.hangover_frames and sum(self._recent) <= self.end_allowed:
            # speech ended at the window's first quiet frame: a loud blip after it is not speech
            i = len(self._speech) - self.hangover_frames
            while i < len(self._speech) and self._speech[i].loud:
                i += 1
            yield from self._end(next((f for f in reversed(self._speech[:i]) if f.loud), None))
            return
        if self._pos - self._speech_start >= self.max_samples:
            yield from self._cut()
            return
        if self.partial_hop and self._pos >= self._next_partial:
            self._next_partial = self._pos + self.partial_hop
            audio = np.concatenate([f.samples for f in self._speech])[-self.partial_window :]
            yield Partial(self._next_id, self._speech_start, self._pos, audio)

    def _begin(self, window: list[_Frame]) -> None:
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
        self._next_partial = self._speech_start + self.partial_hop

    def _judge(self, frame: _Frame) -> None:
        """Whether the frame counts as speech for the end decision."""
        self._levels.append(frame.level)
        if frame.voiced:  # the level held for ~90 ms: a click does not set it
            self._peak = max(self._peak, min(self._levels))
        threshold = max(self._peak - self.end_drop_db, self._floor + self.end_snr_db)
        frame.loud = frame.voiced and frame.level >= threshold
        if frame.loud:
            self._last_loud = frame

    def _end(self, last: _Frame | None) -> Iterator[Utterance]:
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
        self._speech, rest = _split(self._speech, end)
        seam = None
        if self.cut_context:
            # the audio across the cut ends in a quiet spot too: no word cut off at its edge
            near, far = self.cut_context // 2, self.cut_context * 3 // 2
            first = quietest(audio, max(0, at - far), max(0, at - near))
            last = quietest(audio, min(at + near, len(audio)), min(at + far, len(audio)))
            seam = Cut(audio[first:at].copy(), audio[at:last].copy())
        utterance = self._finish(end, cut=True, ended_at=self._speech[-1].arrived, end_cut=seam)
        self._carried = seam if utterance is not None else None
        # speech goes on: the next utterance starts exactly where this one stopped
        self._speech = rest
        self._speech_start = self._audio_start = end
        self._last_loud = next((f for f in reversed(rest) if f.loud), None)
        self._recent.extend(f.loud for f in rest)
        self._next_partial = end + self.partial_hop
        if utterance is not None:
            yield utterance


QUIET_CELL = SAMPLE_RATE // 200  # 5 ms: the resolution of the cut
QUIET_CELLS = 20  # 100 ms: a pause between words, not just a stop's closure inside one
QUIET_RUN_DB = 6.0  # cells this close to the quietest one are part of the same pause


def quietest(audio: np.ndarray, lo: int, hi: int) -> int:
    """A sample in ``[lo, hi]`` at the middle of the quietest 100 ms there.

    Quietest: the lowest mean level in dB of the 5 ms cells (not the mean power, which
    the loud part of a window decides). A window that holds a whole pause of 60 ms
    scores far below one of soft speech, and its middle lies inside the pause; a
    longer pause beats a shorter one. Ties go to the latest: longer parts. The cut
    is the middle of the pause within that window.
    """
    cell, half = QUIET_CELL, QUIET_CELLS // 2
    first = max(0, lo // cell - half)
    x = audio[first * cell : (hi // cell + half) * cell].astype(np.float64)
    x = x[: len(x) - len(x) % cell].reshape(-1, cell)
    levels = 10 * np.log10(np.maximum(np.mean(x * x, axis=1), 1.0))  # dB, 1 LSB at the least
    if len(levels) < 2 * half:
        return min(max(lo, 0), len(audio))  # too short to choose from
    sums = np.concatenate(([0.0], np.cumsum(levels)))
    scores = sums[2 * half :] - sums[: -2 * half]  # window k: cells k .. k + 2 half - 1
    centres = (first + half + np.arange(len(scores))) * cell
    ok = (centres >= lo) & (centres <= hi)
    if not ok.any():
        return min(max(lo, 0), len(audio))
    scores = np.where(ok, scores, np.inf)
    best = len(scores) - 1 - int(np.argmin(scores[::-1]))  # the window: cells best ..
    # within it, the middle of the longest run of its quietest cells (a short pause
    # may lie anywhere in the window; its middle is the cut)
    window = levels[best : best + 2 * half]
    quiet = np.flatnonzero(window <= window.min() + QUIET_RUN_DB)
    runs = np.split(quiet, np.flatnonzero(np.diff(quiet) > 1) + 1)
    run = max(reversed(runs), key=len)  # the longest; of equals, the latest
    at = (first + best) * cell + (int(run[0]) + int(run[-1]) + 1) * cell // 2
    return min(max(at, lo), hi)


def _split(frames: list[_Frame], at: int) -> tuple[list[_Frame], list[_Frame]]:
    """Frames before and after stream sample ``at``; a frame across it is split in two."""
    before = [f for f in frames if f.start + len(f.samples) <= at]
    after = [f for f in frames if f.start >= at]
    for f in frames:
        if f.start < at < f.start + len(f.samples):
            k = at - f.start
            before.append(_Frame(f.start, f.samples[:k], f.voiced, f.arrived, f.level, f.loud))
            after.insert(0, _Frame(at, f.samples[k:], f.voiced, f.arrived, f.level, f.loud))
    return before, after


@hookimpl
def register_segmenters(register):
    register("webrtcvad", VadSegmenter)
