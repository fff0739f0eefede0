"""The words at a cut in a long monologue: each is kept once, by one part.

The segmenter cuts a monologue at ``max_utterance_s``, in the quietest stretch it finds,
and hands both parts a ``stages.Cut`` with the audio on either side of it: the part
before the cut is heard with the second after it, the part after with the second before
it. So Whisper hears a word at the cut whole, twice, and the two parts must agree on
which of them keeps it.

Their word timestamps alone do not agree often enough: tiny.en places the first words
of a clip that starts in mid-speech up to a few tenths of a second early, so a word
just after the cut can fall before the cut in the later part's timestamps and after it
in the earlier part's, and be dropped by both. So the earlier part decides, by the
middle of each word in its own timestamps, and notes on the Cut the words it kept just
before the cut and those it heard after it. The later part (transcribed after it: one
stream's utterances go through the transcriber in order) finds that place in its own
words by matching the two runs of words, and keeps what follows. Only when they have no
word in common does it go by its own timestamps.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from typing import Any

from streamemo.api import SAMPLE_RATE, Cut, Span

# A word as Whisper gives it: text (with its leading space), start and end in seconds
# from the start of the span's audio.
Word = tuple[str, float, float]


def own_text(words: Sequence[Word], span: Span) -> str:
    """The text of the words that are the span's own; notes its end cut for the next part."""
    start, end = span.start / SAMPLE_RATE, span.end / SAMPLE_RATE
    middles = [(a + b) / 2 for _, a, b in words]
    last = sum(m < end for m in middles)  # words in time order: the midpoint rule
    first = min(_first_own(words, middles, start, span.start_cut), last)
    own = words[first:last]
    if span.end_cut is not None:
        since = end - len(span.end_cut.before) / SAMPLE_RATE  # the next part hears from here
        kept = zip(own, middles[first:last], strict=True)
        span.end_cut.kept = [_plain(w) for w, m in kept if m >= since]
        span.end_cut.left = [_plain(w) for w in words[last:]]
    return " ".join("".join(text for text, _, _ in own).split())


def join(spans: Sequence[Span]) -> tuple[list[Span], frozenset[int]]:
    """Consecutive spans made ready for one packed window: where one goes on from the
    one before (they share a Cut), the audio across the cut is left out of both, so that
    the window holds that stretch once, as the continuous speech it is, and the words at
    the cut go by their middle in one decode. Returns the spans and the positions ``n``
    whose span ``n + 1`` goes on from them (``whisper_packing.Pack.joined``)."""
    out: list[Span] = []
    joined: set[int] = set()
    for n, span in enumerate(spans):
        front = n > 0 and span.start_cut is not None and span.start_cut is spans[n - 1].end_cut
        back = n + 1 < len(spans) and span.end_cut is not None
        back = back and span.end_cut is spans[n + 1].start_cut
        first = span.start if front else 0
        last = span.end if back else len(span.audio)
        start_cut = None if front else span.start_cut  # the word at the cut goes by its middle
        out.append(
            Span(
                span.audio[first:last],
                span.start - first,
                span.end - first,
                start_cut,
                span.end_cut,
            )
        )
        if back:
            joined.add(n)
    return out, frozenset(joined)


def joined_runs(count: int, joined: frozenset[int]) -> list[list[int]]:
    """Positions ``0 .. count - 1`` in runs that are joined one to the next."""
    runs: list[list[int]] = []
    for n in range(count):
        if n and n - 1 in joined:
            runs[-1].append(n)
        else:
            runs.append([n])
    return runs


def words_of(segments: Sequence[Any]) -> list[Word]:
    """faster-whisper's segments (decoded with word timestamps) as words."""
    return [(w.word, w.start, w.end) for segment in segments for w in segment.words or ()]


def words_by_utterance(pack: Any, segments: Sequence[Any]) -> list[list[Word]]:
    """The words of a packed window (whisper_packing.Pack), each with the utterance whose
    stretch holds it, in seconds from that utterance's own start in the pack."""
    heard: list[list[Word]] = [[] for _ in pack.indices]
    for text, a, b in words_of(segments):
        n = pack.owner(a, b)
        offset = pack.spans[n][0]
        heard[n].append((text, a - offset, b - offset))
    return heard


def _first_own(words: Sequence[Word], middles: list[float], start: float, cut: Cut | None) -> int:
    """How many of the words lie before the span's own audio: the earlier part heard them."""
    by_time = sum(m < start for m in middles)
    if cut is None or cut.kept is None or cut.left is None:
        return by_time  # the earlier part was not transcribed (or failed): timestamps alone
    reach = start + len(cut.after) / SAMPLE_RATE  # the earlier part heard up to here
    ours = [_plain(w) for w, m in zip(words, middles, strict=True) if m < reach]
    split = match_split(cut.kept + cut.left, len(cut.kept), ours)
    return by_time if split is None else split


def match_split(theirs: Sequence[str], at: int, ours: Sequence[str]) -> int | None:
    """Where ``theirs[:at] | theirs[at:]`` falls in ``ours``, two transcripts of the same
    audio: by the nearest words the two have in common; None when they have none."""
    matcher = difflib.SequenceMatcher(None, theirs, ours, autojunk=False)
    blocks = matcher.get_matching_blocks()
    # a word of punctuation alone ("-") is no anchor
    pairs = [(m.a + k, m.b + k) for m in blocks for k in range(m.size) if theirs[m.a + k]]
    before = [(i, j) for i, j in pairs if i < at]
    after = [(i, j) for i, j in pairs if i >= at]
    if before:
        # after the last of their kept words that we have too; their kept words we do not
        # have (heard differently) count one for one. Words of ours between there and
        # their left-over ones were missed by them: we keep those, or they would be lost.
        i, j = before[-1]
        split = j + 1 + (at - i - 1)
        return min(split, after[0][1] if after else len(ours))
    if after:  # only their left-over words anchor: we start at the first of those
        i, j = after[0]
        return max(0, j - (i - at))
    return None


def _plain(word: Word | str) -> str:
    text = word if isinstance(word, str) else word[0]
    return re.sub(r"[^\w']", "", text.lower())
