"""The words at a cut in a long monologue are kept once (the whisper plugin's seams.py), whatever
Whisper's timestamps say; and parts of one monologue are packed as one stretch."""

from types import SimpleNamespace

import numpy as np

from streamemo.default_plugins.whisper import packing
from streamemo.default_plugins.whisper.seams import join, match_split, own_text, words_by_utterance
from streamemo.frames import SAMPLE_RATE, Cut, Utterance

SECOND = SAMPLE_RATE


def _words(text: str, start: float, step: float = 0.3) -> list[tuple[str, float, float]]:
    """Whisper-like words, one every ``step`` s from ``start`` (seconds in the span)."""
    return [
        (" " + w, start + k * step, start + k * step + step * 0.8)
        for k, w in enumerate(text.split())
    ]


def _parts(cut_s: float = 6.0) -> tuple[Utterance, Utterance]:
    """Two parts of one monologue cut at ``cut_s``, sharing the second either side."""
    silent = np.zeros(int(cut_s * SECOND), np.int16)
    cut = Cut(before=silent[:SECOND], after=silent[:SECOND])
    first = Utterance(1, 0, len(silent), silent, 0.0, cut=True, end_cut=cut)
    second = Utterance(2, len(silent), 2 * len(silent), silent, 0.0, start_cut=cut)
    return first, second


def test_match_split_finds_the_same_place_in_the_other_transcript():
    theirs = "every single day".split() + "while the dog".split()
    # the same words: ours start where theirs were left over
    assert match_split(theirs, 3, "single day while the dog sleeps".split()) == 2
    # they missed "of the year" before the cut: we keep it rather than lose it
    assert match_split(theirs, 3, "every single day of the year while the dog".split()) == 3
    # the word at the cut heard differently on each side: one for one
    assert match_split("the sun climbs".split(), 2, "the son climbs high".split()) == 2
    # only their left-over words in common
    assert match_split("xx yy the dog".split(), 2, "a b the dog".split()) == 2
    assert match_split(["a"], 1, ["b", "c"]) is None  # nothing in common


def test_a_word_just_after_a_cut_is_kept_once_though_the_timestamps_disagree():
    first, second = _parts()
    a, b = first.span(), second.span()
    # the first part hears "and when the | sun climbs" (cut at 6.0 s of its audio)
    heard_first = _words("the world and when the", 4.4) + _words("sun climbs higher", 6.05)
    assert own_text(heard_first, a).endswith("and when the")
    assert first.end_cut.kept[-3:] == ["and", "when", "the"]
    assert first.end_cut.left == ["sun", "climbs", "higher"]
    # the second part hears the same words, but tiny.en puts its first words early: "sun"
    # ends up before the cut (1.0 s of its audio) by its own timestamps
    heard_second = _words("world and when the sun", 0.0, 0.19) + _words("climbs higher", 1.1)
    assert (heard_second[4][1] + heard_second[4][2]) / 2 < b.start / SECOND  # "sun": before
    assert own_text(heard_second, b) == "sun climbs higher"
    # without the first part's note it could only go by the timestamps, and lose "sun"
    _, alone = _parts()
    assert own_text(heard_second, alone.span()) == "climbs higher"


def test_parts_of_one_monologue_are_packed_as_one_stretch():
    first, second = _parts()
    third = Utterance(3, 0, 3 * SECOND, np.ones(3 * SECOND, np.int16), 0.0)  # another one
    spans = [first.span(), second.span(), third.span()]
    parts, joined = join(spans)
    assert joined == {0}
    # the first keeps its own audio only at its end, the second only at its start
    assert len(parts[0].audio) == 6 * SECOND and parts[0].end == 6 * SECOND
    assert parts[1].start == 0 and len(parts[1].audio) == 6 * SECOND
    assert parts[1].start_cut is None  # its first words go by the one decode
    assert np.array_equal(parts[2].audio, spans[2].audio) and parts[2].end == 3 * SECOND
    pack = packing.lay_out([0, 1, 2], [p.audio.astype(np.float32) for p in parts], SECOND, joined)
    assert pack.spans == [(0.0, 6.0), (6.0, 12.0), (13.0, 16.0)]  # no gap at the cut
    # a word across the cut goes by its middle and makes neither part doubtful
    word = SimpleNamespace(word=" sun", start=5.9, end=6.3)
    other = SimpleNamespace(word=" hi", start=13.2, end=13.5)
    one = SimpleNamespace(start=0.0, end=12.0, words=[word], compression_ratio=1.0)
    two = SimpleNamespace(start=13.0, end=16.0, words=[other], compression_ratio=1.0)
    texts, doubtful = packing.split(pack, [one, two])
    assert texts == ["", "sun", "hi"] and doubtful == {0}  # 0: it got no words at all
    by_utterance = words_by_utterance(pack, [one, two])
    assert by_utterance[1] == [(" sun", 5.9 - 6.0, 6.3 - 6.0)]


def test_a_span_without_cuts_is_the_utterance_itself():
    audio = np.arange(100, dtype=np.int16)
    span = Utterance(1, 0, 100, audio, 0.0).span()
    assert span.audio is audio and (span.start, span.end) == (0, 100) and not span.context
