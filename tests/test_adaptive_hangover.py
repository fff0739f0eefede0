"""Adaptive hangover: what the speculation heard sets how much silence ends the pause.
Real webrtcvad on real speech (espeak-ng) with real pauses, hinted with what real tiny.en
Whisper hears in each Pause: a sentence that ends is decided sooner than with the usual
hangover; a phrase that trails off with "and" is not split by a pause longer than the
hangover. Then the same through the pipeline, played in real time; and bad options."""

from __future__ import annotations

import pytest

from streamemo.api import SAMPLE_RATE, Block, Pause, Utterance
from streamemo.default_plugins.vad_segmenter import VadSegmenter
from streamemo.default_plugins.vad_segmenter.endings import ending
from tests.conftest import run_cli
from tests.pauses import analysers, config, play, spoken

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

# tiny.en hears espeak-ng say this as "This morning I walked to the river and..." (two
# cues, the comma and "and": "I walked down to the river this morning and" was heard
# as "... this morning again." on one CPU, where int8 rounds differently)
TRAILING = "This morning I walked to the river, and"


@pytest.fixture(scope="module")
def whisper():
    return analysers(config("text.enabled=false", "audio.enabled=false"))


def segment(audio, whisper, **options) -> list[tuple[Utterance, float]]:
    """The utterances, each with how long after its end it was decided (s): every Pause
    is heard by Whisper and hinted at once, as a speculation that takes no time."""
    segmenter = VadSegmenter(**options)
    segmenter.pauses = True
    found = []
    for i in range(0, len(audio), 480):
        for item in segmenter.feed(Block(audio[i : i + 480], 0.0)):
            if isinstance(item, Pause):
                text = whisper.transcriber.transcribe(item.audio).text
                segmenter.hint(item.id, item.end, text)
            elif isinstance(item, Utterance):
                found.append((item, (segmenter._pos - item.end) / SAMPLE_RATE))
    return found


def test_the_words_say_whether_a_sentence_ended():
    assert ending("The meeting is over for today.") == "ends"
    assert ending("Is it?") == "ends"
    assert ending("I went to the shop and.") == "trails"  # Whisper's period after "and"
    assert ending("I went to the shop,") == "trails"
    assert ending("I went to the shop") is None  # tiny.en drops final periods: no cue
    assert ending("") is None


def test_a_sentence_that_ends_is_decided_sooner(tmp_path, whisper):
    _, audio = spoken(tmp_path, 500, "The meeting is over for today.", 1500)
    ((on, on_after),) = segment(audio, whisper)
    ((off, off_after),) = segment(audio, whisper, adaptive_hangover=False)
    assert (on.start, on.end) == (off.start, off.end)  # the same utterance, decided sooner
    assert on_after < off_after - 0.15, (on_after, off_after)
    assert on_after <= 0.35  # hangover_short_ms (300) and a frame


def test_a_phrase_trailing_with_and_is_not_split_by_a_longer_pause(tmp_path, whisper):
    # 750 ms: longer than the usual 600 ms hangover, shorter than hangover_long_ms (900)
    _, audio = spoken(
        tmp_path, 500, TRAILING, 750, "I saw a big brown dog.", 1500
    )  # fmt: skip
    assert len(segment(audio, whisper, adaptive_hangover=False)) == 2
    ((whole, _),) = segment(audio, whisper)
    assert whole.end - whole.start > 2.5 * SAMPLE_RATE  # both parts


def test_through_the_pipeline_a_sentence_that_ends_is_sent_sooner(tmp_path, whisper):
    # played in real time: the hint reaches the segmenter from the thread "speculating"
    # whenever Whisper is done; a long usual hangover (5 s) leaves room for a slow
    # Whisper on a busy machine, and the event of the sentence that ends comes first
    path, _ = spoken(tmp_path, 500, "The meeting is over for today.", 6000)
    base = ["text.enabled=false", "audio.enabled=false", "pipeline.live_words=false",
            "segmenter.hangover_ms=5000", "segmenter.hangover_long_ms=5000"]  # fmt: skip
    (off,), _ = play(path, config(*base, "segmenter.adaptive_hangover=false"), whisper)
    (on,), counters = play(path, config(*base), whisper)
    assert counters.get("speculations_used") == 1, counters
    assert (on.start, on.end, on.text) == (off.start, off.end, off.text)
    assert off.latency_ms > 4000  # the usual hangover (less its end_ratio)
    assert on.latency_ms < off.latency_ms - 1500, (on.latency_ms, off.latency_ms)


def test_through_the_pipeline_a_phrase_trailing_with_and_is_kept_whole(tmp_path, whisper):
    # played in real time: "... and", 2 s of silence, more words. The usual hangover
    # (1.5 s here, so a slow Whisper on a busy machine still hints in time) splits it;
    # the hint that it trails off makes this pause wait hangover_long_ms (3 s) instead
    path, _ = spoken(tmp_path, 500, TRAILING, 2000, "I saw a big brown dog.", 4000)
    base = ["text.enabled=false", "audio.enabled=false", "pipeline.live_words=false",
            "segmenter.hangover_ms=1500", "segmenter.hangover_long_ms=3000"]  # fmt: skip
    split, _ = play(path, config(*base, "segmenter.adaptive_hangover=false"), whisper)
    (whole,), counters = play(path, config(*base), whisper)
    assert len(split) == 2, [e.text for e in split]
    words = [w.strip(".,!?").lower() for w in whole.text.split()]
    assert "river" in words and "dog" in words, whole.text
    assert counters.get("speculations_dropped", 0) >= 1, counters  # the pause was heard


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("segmenter.adaptive_hangover=maybe", "segmenter.adaptive_hangover must be true or false"),
        ("segmenter.hangover_short_ms=0", "segmenter.hangover_short_ms must be a number of ms"),
        ("segmenter.hangover_long_ms=-5", "segmenter.hangover_long_ms must be a number of ms"),
        ("segmenter.hangover_short_ms=1000", "must not be longer than hangover_long_ms"),
        ("segmenter.pause_ms=-1", "segmenter.pause_ms must be a number of ms above 0"),
        ("segmenter.partial_first_s=0", "segmenter.partial_first_s must be seconds above 0"),
    ],
)
@pytest.mark.parametrize("name", ["webrtcvad", "silero"])
def test_a_bad_adaptive_option_is_one_line(tmp_path, name, override, message):
    wav = tmp_path / "x.wav"
    spoken(tmp_path, 300)[0].rename(wav)
    result = run_cli("run", "--input", str(wav), "-o", f"segmenter.name={name}", "-o", override)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
