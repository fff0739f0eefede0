"""The webrtcvad segmenter on real speech with known boundaries."""

import itertools
import json
import time

import numpy as np
import pytest

from streamemo.audio_io import read_all
from streamemo.default_plugins.vad_segmenter import VadSegmenter
from streamemo.default_plugins.vad_segmenter.cuts import quietest
from streamemo.errors import ConfigError
from streamemo.frames import SAMPLE_RATE, Block, Partial, Utterance
from tests.conftest import shared
from tests.espeak import MONOLOGUE, speak


def segment(audio: np.ndarray, block: int = 480, **options) -> list[Utterance | Partial]:
    seg = VadSegmenter(**options)
    out: list[Utterance | Partial] = []
    for i in range(0, len(audio), block):  # odd block sizes exercise the frame buffering
        out.extend(seg.feed(Block(audio[i : i + block], time.monotonic())))
    out.extend(seg.flush())
    return out


@pytest.fixture(scope="module")
def diary():
    truth = json.loads(shared("audio/en/en_diary.json").read_text())["utterances"]
    return read_all(shared("audio/en/en_diary.wav")), truth


@pytest.mark.parametrize(("frame_ms", "block"), [(30, 480), (20, 1000), (10, 333)])
def test_one_utterance_per_sentence_within_0_3_s(diary, frame_ms, block):
    audio, truth = diary
    utterances = [u for u in segment(audio, block, frame_ms=frame_ms) if isinstance(u, Utterance)]
    assert len(utterances) == len(truth)
    for u, t in zip(utterances, truth, strict=True):
        assert abs(u.start / SAMPLE_RATE - t["start"]) <= 0.3
        assert abs(u.end / SAMPLE_RATE - t["end"]) <= 0.3
        # the audio handed on covers the speech plus pre-roll and tail
        assert len(u.audio) >= u.end - u.start
    assert [u.id for u in utterances] == list(range(1, len(truth) + 1))


def _partial_times(items: list) -> list[float]:
    """Seconds into utterance 1 of its partials."""
    return [
        round((p.end - p.start) / SAMPLE_RATE, 2)
        for p in items
        if isinstance(p, Partial) and p.id == 1
    ]


def test_partials_arrive_every_hop_while_speaking(diary):
    audio, _truth = diary
    items = segment(audio, partial_hop_s=1.0, partial_first_s=1.0)
    first = [p for p in items if isinstance(p, Partial) and p.id == 1]
    # utterance 1 lasts ~3.4 s: partials at 1, 2 and 3 s after its start
    assert len(first) == 3
    assert all(len(p.audio) <= int(3.3 * SAMPLE_RATE) for p in first)
    assert [round(t) for t in _partial_times(items)] == [1, 2, 3]
    assert not [p for p in segment(audio, partial_hop_s=0) if isinstance(p, Partial)]


def test_the_first_partial_comes_half_a_second_into_speech(diary):
    # by default the first words are heard 0.5 s in, then every hop (1 s) from there
    audio, _truth = diary
    assert _partial_times(segment(audio)) == pytest.approx([0.5, 1.5, 2.5, 3.5], abs=0.08)
    # never later than the hop itself
    assert _partial_times(segment(audio, partial_hop_s=0.3, partial_first_s=2))[0] < 0.35


def test_a_long_monologue_is_cut_at_the_maximum_and_nothing_is_lost(diary):
    audio, truth = diary
    utterances = [u for u in segment(audio, max_utterance_s=1.5) if isinstance(u, Utterance)]
    first = [u for u in utterances if u.start < truth[0]["end"] * SAMPLE_RATE]
    assert len(first) >= 3  # 3.4 s of speech cut into pieces of at most 1.5 s
    for a, b in itertools.pairwise(first):
        assert a.cut and a.end == b.start  # contiguous: the next piece starts where this stopped
        assert a.end - a.start <= 1.5 * SAMPLE_RATE
    assert abs(first[-1].end / SAMPLE_RATE - truth[0]["end"]) <= 0.3


def test_clicks_shorter_than_the_minimum_are_not_utterances():
    rng = np.random.default_rng(0)
    audio = np.zeros(SAMPLE_RATE * 3, np.int16)
    audio[SAMPLE_RATE : SAMPLE_RATE + 2400] = rng.normal(0, 8000, 2400).astype(np.int16)  # 150 ms
    assert not [u for u in segment(audio, min_utterance_ms=250) if isinstance(u, Utterance)]


def test_speech_running_to_the_end_of_the_stream_is_flushed(diary):
    audio, truth = diary
    cut = int((truth[0]["start"] + 2.0) * SAMPLE_RATE)  # stop in mid-sentence
    utterances = [u for u in segment(audio[:cut]) if isinstance(u, Utterance)]
    assert len(utterances) == 1 and utterances[0].end <= cut


def end_delays_ms(audio: np.ndarray, truth: list[dict], **options) -> np.ndarray:
    utterances = [u for u in segment(audio, **options) if isinstance(u, Utterance)]
    assert len(utterances) == len(truth)
    ends = [u.end / SAMPLE_RATE - t["end"] for u, t in zip(utterances, truth, strict=True)]
    return np.array(ends) * 1000


def test_the_end_is_where_the_voice_stops_not_where_webrtcvad_does(diary):
    audio, truth = diary
    # webrtcvad alone goes on calling frames voiced for ~110 ms after the last word
    # (measured: p50 113 ms on en_long); the level test ends within a frame or so, or drops
    # a last blip after a quiet frame (up to end_ratio of the hangover window)
    delays = end_delays_ms(audio, truth)
    assert np.median(np.abs(delays)) <= 30, delays
    assert np.all((delays >= -100) & (delays <= 60)), delays
    # whatever the block size
    np.testing.assert_array_equal(end_delays_ms(audio, truth, block=1000), delays)
    shorter = end_delays_ms(audio, truth, hangover_ms=400)
    assert np.all((shorter >= -100) & (shorter <= 60)), shorter


def test_a_short_pause_inside_a_sentence_does_not_split_it():
    # the Korean diary line pauses 0.5 s after its first words (1.59 s to 2.1 s)
    audio = read_all(shared("audio/ko_diary_16k.wav"))
    [utterance] = [u for u in segment(audio) if isinstance(u, Utterance)]
    assert utterance.start < 0.7 * SAMPLE_RATE and utterance.end > 3.5 * SAMPLE_RATE
    halves = [u for u in segment(audio, hangover_ms=400) if isinstance(u, Utterance)]
    assert len(halves) == 2  # a shorter hangover answers sooner and splits at that pause


@pytest.mark.parametrize("rms", [300, 1000])
def test_background_noise_neither_ends_early_nor_merges_sentences(diary, rms):
    audio, truth = diary
    noise = np.random.default_rng(0).normal(0, rms, len(audio))  # -40 and -30 dBFS hiss
    noisy = np.clip(audio + noise, -32768, 32767).astype(np.int16)
    # quiet word endings sink into the noise: ends come earlier, never into the next words
    delays = end_delays_ms(noisy, truth)
    assert np.all(delays <= 60), delays
    # and Whisper still hears them: its audio runs tail_ms (300) past the end
    assert np.all(delays + 300 >= -50), delays


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"frame_ms": 25}, "10, 20 or 30"),
        ({"aggressiveness": 5}, "0-3"),
        ({"end_drop_db": 0}, "end_drop_db must be a number of dB, above 0"),
        ({"end_snr_db": "6"}, "end_snr_db must be a number of dB, 0 or more"),
        ({"cut_search_s": -1}, "cut_search_s must be a number of seconds, 0 or more"),
        ({"cut_context_s": "1"}, "cut_context_s must be a number of seconds, 0 or more"),
    ],
)
def test_bad_options(options, message):
    with pytest.raises(ConfigError, match=message):
        VadSegmenter(**options)


def _word(rng: np.random.Generator, ms: int, pitch: float = 140.0) -> np.ndarray:
    """A loud voiced stretch: a buzz with harmonics, like a vowel."""
    t = np.arange(SAMPLE_RATE * ms // 1000) / SAMPLE_RATE
    buzz = sum(np.sin(2 * np.pi * pitch * k * t) / k for k in range(1, 12))
    return (6000 * buzz + rng.normal(0, 200, len(t))).astype(np.int16)


def test_the_quietest_point_is_a_pause_between_words_not_a_stop_inside_one():
    rng = np.random.default_rng(1)
    silence = np.zeros(SAMPLE_RATE // 1000 * 25, np.int16)  # 25 ms: a stop's closure
    pause = np.zeros(SAMPLE_RATE // 1000 * 60, np.int16)  # 60 ms between two words
    audio = np.concatenate(
        [_word(rng, 300), silence, _word(rng, 250), _word(rng, 200, 180), pause, _word(rng, 400)]
    )
    gap_start = SAMPLE_RATE // 1000 * (300 + 25 + 250 + 200)
    at = quietest(audio, 0, len(audio))
    # inside the 60 ms pause, near its middle; not in the 25 ms stop, deeper or not
    assert gap_start + 15 * SAMPLE_RATE // 1000 <= at <= gap_start + 45 * SAMPLE_RATE // 1000
    # no pause at all: the softest stretch, and the choice stays within [lo, hi]
    soft = np.concatenate([_word(rng, 500), _word(rng, 200) // 8, _word(rng, 500)])
    at = quietest(soft, 4000, 12000)
    assert 8000 <= at <= 11200 and 4000 <= at <= 12000
    assert quietest(soft, 100, 200) in range(100, 201)  # shorter than the window


def test_a_monologue_is_cut_in_a_pause_and_both_parts_share_the_audio_across_it(tmp_path):
    audio = speak(MONOLOGUE, tmp_path / "monologue.wav")[: 30 * SAMPLE_RATE]
    parts = [u for u in segment(audio, max_utterance_s=8) if isinstance(u, Utterance)]
    assert len(parts) >= 4
    levels = {}
    for a, b in itertools.pairwise(parts):
        assert a.cut and a.end == b.start and a.end_cut is b.start_cut is not None
        cut = a.end_cut
        # the cut lies 1 to 3 s before the limit, so the second after it is already there
        assert 5 * SAMPLE_RATE <= a.end - a.start <= 7 * SAMPLE_RATE
        # the audio across the cut is the stream's own, about a second either side
        assert np.array_equal(cut.before, audio[a.end - len(cut.before) : a.end])
        assert np.array_equal(cut.after, audio[a.end : a.end + len(cut.after)])
        assert all(
            0.5 * SAMPLE_RATE <= len(x) <= 1.5 * SAMPLE_RATE for x in (cut.before, cut.after)
        )
        # each part's own audio stops at the cut; the next one's starts there
        assert np.array_equal(a.audio[-100:], audio[a.end - 100 : a.end])
        assert np.array_equal(b.audio[:100], audio[b.start : b.start + 100])
        span = b.span()
        assert np.array_equal(span.audio[span.start : span.end], b.audio)
        levels[a.end] = float(np.abs(audio[a.end - 160 : a.end + 160]).max())
    assert parts[0].start_cut is None and parts[-1].end_cut is None
    # in a pause: the 20 ms around each cut hold next to nothing (espeak-ng's pauses are silent)
    assert max(levels.values()) < 300, levels
