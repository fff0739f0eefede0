"""Several utterances in one Whisper window, and their words split back.

Whisper's encoder always encodes 30 s, so a 3 s utterance costs as much as 30 s of
speech. When utterances wait in a queue (file mode), consecutive ones are laid out
in one window with a short silence between them, transcribed once with timestamps,
and each word goes back to the utterance whose stretch holds the word's midpoint.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from streamemo.api import SAMPLE_RATE

WINDOW_S = 30.0  # Whisper's encoder window
# faster-whisper's compression_ratio_threshold: above it, text is a repetition loop
COMPRESSION_RATIO_MAX = 2.4


@dataclass(slots=True)
class Pack:
    """Consecutive utterances laid out in one window, with silence between them."""

    indices: list[int]  # positions in the caller's list
    audio: np.ndarray  # float32
    spans: list[tuple[float, float]]  # (start, end) of each utterance in the pack, s
    # positions n whose utterance n + 1 goes on from it with no gap: the parts of one
    # monologue cut at max_utterance_s, heard as the continuous speech they are
    joined: frozenset[int] = frozenset()

    def boundaries(self) -> list[float]:
        """Where one utterance's share ends: the middle of each gap."""
        return [(a[1] + b[0]) / 2 for a, b in zip(self.spans, self.spans[1:], strict=False)]

    def owner(self, start: float, end: float) -> int:
        """The utterance (position within the pack) that a word or segment belongs to."""
        return bisect.bisect_right(self.boundaries(), (start + end) / 2)


def plan(lengths: Sequence[int], room: int, gap: int) -> list[list[int]]:
    """Consecutive groups whose audio plus the gaps between fits ``room`` samples.

    Greedy: for groups of consecutive items of fixed capacity, filling each group as
    far as it goes gives the fewest groups. An item longer than ``room`` is alone.
    """
    groups: list[list[int]] = []
    used = 0
    for i, length in enumerate(lengths):
        if groups and used + gap + length <= room:
            groups[-1].append(i)
            used += gap + length
        else:
            groups.append([i])
            used = length
    return groups


def lay_out(
    indices: list[int],
    audios: Sequence[np.ndarray],
    gap: int,
    joined: frozenset[int] = frozenset(),
) -> Pack:
    """One float32 track: each utterance, then ``gap`` samples of silence (none after
    the positions in ``joined``)."""
    pieces: list[np.ndarray] = []
    spans: list[tuple[float, float]] = []
    at = 0
    silence = np.zeros(gap, np.float32)
    for n, i in enumerate(indices):
        if n and n - 1 not in joined:
            pieces.append(silence)
            at += gap
        pieces.append(audios[i])
        spans.append((at / SAMPLE_RATE, (at + len(audios[i])) / SAMPLE_RATE))
        at += len(audios[i])
    return Pack(list(indices), np.concatenate(pieces), spans, joined)


def split(pack: Pack, segments: Sequence[Any]) -> tuple[list[str], set[int]]:
    """Each utterance's text, and the positions in the pack whose text is doubtful.

    ``segments`` are faster-whisper's, with word timestamps; each word goes to the
    utterance whose stretch holds its middle. Doubtful, to be transcribed alone: an
    utterance that got no words (Whisper skipped it); every utterance a segment or
    word overlaps together with another (Whisper ran two together, or its alignment
    stretched a word over the gap: then the words cannot be told apart); and those
    under a repetition loop (Whisper's own test: text that compresses too well).
    """
    parts: list[list[str]] = [[] for _ in pack.indices]
    doubtful: set[int] = set()
    for segment in segments:
        doubtful |= _straddled(pack, segment.start, segment.end)
        if segment.compression_ratio > COMPRESSION_RATIO_MAX:
            doubtful |= _touched(pack, segment.start, segment.end)
        for word in segment.words or ():
            doubtful |= _straddled(pack, word.start, word.end)
            parts[pack.owner(word.start, word.end)].append(word.word)  # with its own space
    texts = [" ".join("".join(words).split()) for words in parts]
    doubtful |= {n for n, text in enumerate(texts) if not text}
    return texts, doubtful


def _touched(pack: Pack, start: float, end: float) -> set[int]:
    """The utterances whose audio [start, end] overlaps, or else the nearest one."""
    touched = {n for n, (a, b) in enumerate(pack.spans) if min(end, b) > max(start, a)}
    return touched or {pack.owner(start, end)}


def _straddled(pack: Pack, start: float, end: float) -> set[int]:
    """The utterances whose audio [start, end] overlaps, when that is more than one
    (not when they are joined: their words go by their middle, see Pack.joined)."""
    touched = _touched(pack, start, end)
    if all(n in pack.joined for n in range(min(touched), max(touched))):
        return set()  # one of them, or consecutive parts of one monologue
    return touched
