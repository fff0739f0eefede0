"""Where to cut a long monologue: the middle of its quietest pause, and the frames split there."""

from __future__ import annotations

import numpy as np

from streamemo.api import SAMPLE_RATE, Cut
from streamemo.default_plugins.vad_segmenter.frame import Frame

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


def across(audio: np.ndarray, at: int, context: int) -> Cut:
    """The audio on either side of a cut at ``at``, about ``context`` samples each way,
    ending in a quiet spot too: no word cut off at its edge."""
    near, far = context // 2, context * 3 // 2
    first = quietest(audio, max(0, at - far), max(0, at - near))
    last = quietest(audio, min(at + near, len(audio)), min(at + far, len(audio)))
    return Cut(audio[first:at].copy(), audio[at:last].copy())


def split(frames: list[Frame], at: int) -> tuple[list[Frame], list[Frame]]:
    """Frames before and after stream sample ``at``; a frame across it is split in two."""
    before = [f for f in frames if f.start + len(f.samples) <= at]
    after = [f for f in frames if f.start >= at]
    for f in frames:
        if f.start < at < f.start + len(f.samples):
            k = at - f.start
            before.append(Frame(f.start, f.samples[:k], f.voiced, f.arrived, f.level, f.loud))
            after.insert(0, Frame(at, f.samples[k:], f.voiced, f.arrived, f.level, f.loud))
    return before, after
