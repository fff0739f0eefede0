"""Speculation: an utterance is heard while its hangover runs. Real tiny.en Whisper, real
webrtcvad, real speech (espeak-ng) that pauses, played in real time: a pause shorter than
the hangover drops the work on it and the utterance goes on; one that ends it uses the
work, with the same words as without speculation."""

from __future__ import annotations

import io
import threading
import time

import numpy as np
import pytest

from streamemo.analysis import Analysis
from streamemo.api import SAMPLE_RATE, Block, Pause, Utterance
from streamemo.default_plugins.vad_segmenter import VadSegmenter
from streamemo.emission import Emission
from streamemo.plugins import get_plugin_manager
from streamemo.speculation import Speculator
from tests.pauses import analysers, config, play, spoken

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

SENTENCE = "The meeting is over for today."


@pytest.fixture(scope="module")
def models():
    return analysers(config())


def _words(text: str | None) -> list[str]:
    return [w.strip(".,!?").lower() for w in (text or "").split()]


def _segmented(audio: np.ndarray, flush: bool = True) -> list:
    """What the real segmenter, with pauses on, yields for ``audio`` fed in 30 ms blocks."""
    segmenter = VadSegmenter()
    segmenter.pauses = True
    items = []
    for i in range(0, len(audio), 480):
        items += segmenter.feed(Block(audio[i : i + 480], 0.0))
    return items + (list(segmenter.flush()) if flush else [])


def test_a_pause_shorter_than_the_hangover_drops_the_work_and_the_utterance_goes_on(
    tmp_path, models
):
    # 400 ms of silence mid-utterance: a Pause comes (after the 300 ms tail), is heard,
    # speech resumes before the 600 ms hangover is over: one utterance of both parts
    path, _ = spoken(
        tmp_path, 500, "I walked down to the river this morning and", 400,
        "I saw a big brown dog.", 1500,
    )  # fmt: skip
    cfg = config("segmenter.adaptive_hangover=false")  # the usual hangover: no timing race
    events, counters = play(path, cfg, models)
    assert len(events) == 1, [e.text for e in events]
    words = _words(events[0].text)
    assert "river" in words and "dog" in words, events[0].text
    assert counters.get("speculations_dropped", 0) >= 1, counters
    assert counters.get("utterances") == 1


def test_an_utterance_that_ends_uses_its_speculation_with_the_same_words(tmp_path, models):
    path, _ = spoken(tmp_path, 500, SENTENCE, 1500)
    on, on_counters = play(path, config(), models)
    off, off_counters = play(path, config("pipeline.speculate=false"), models)
    assert len(on) == len(off) == 1
    assert on_counters.get("speculations_used") == 1, on_counters
    assert "speculations_used" not in off_counters and "speculations_dropped" not in off_counters
    assert on[0].text == off[0].text and "meeting" in _words(on[0].text)
    assert on_counters.get("utterances") == off_counters.get("utterances") == 1


def test_a_partial_in_its_pause_takes_the_words_the_guess_heard(tmp_path, models):
    """The Speculator alone, on a real Pause of real speech: ``words_of`` waits for the
    guess on that utterance and gives what Whisper heard; any other utterance gets None
    at once."""
    _, audio = spoken(tmp_path, 500, SENTENCE, 1500)
    pause = [p for p in _segmented(audio, flush=False) if isinstance(p, Pause)][-1]
    out = Emission("test", get_plugin_manager(), io.StringIO())
    speculator = Speculator(Analysis(models, out, live_words=True), out)
    assert speculator.words_of(pause.id, 5) is None  # nothing heard yet: no wait
    runner = threading.Thread(target=speculator.run)
    runner.start()
    try:
        speculator.offer(pause)
        while not speculator.busy.is_set() and runner.is_alive():
            time.sleep(0.005)  # the guess has started
        started = time.monotonic()
        assert speculator.words_of(pause.id + 1, 5) is None  # another utterance's
        assert time.monotonic() - started < 0.1
        words = speculator.words_of(pause.id, 30)
    finally:
        speculator.close()
        runner.join(30)
    alone = models.transcriber.transcribe(pause.as_utterance().audio).text
    assert words == alone and "meeting" in _words(words), (words, alone)


def test_a_guess_dropped_as_speech_resumes_still_gives_the_words_it_heard(tmp_path, models):
    """Speech resumes while the guess on its first pause is still being heard: the newer
    Pause drops it, but a partial asking meanwhile still gets its words (Whisper is busy
    with them, and they are the speech up to that pause), not nothing."""
    _, audio = spoken(
        tmp_path, 500, "I walked down to the river this morning and", 400,
        "I saw a big brown dog.", 1500,
    )  # fmt: skip
    pauses = [p for p in _segmented(audio, flush=False) if isinstance(p, Pause)]
    first, last = pauses[0], pauses[-1]
    assert first.id == last.id and first.end < last.end  # two pauses of one utterance
    out = Emission("test", get_plugin_manager(), io.StringIO())
    speculator = Speculator(Analysis(models, out, live_words=True), out)
    runner = threading.Thread(target=speculator.run)
    runner.start()
    try:
        speculator.offer(first)
        while not speculator.busy.is_set() and runner.is_alive():
            time.sleep(0.005)
        speculator.offer(last)  # speech resumed: the first guess is dropped, still running
        words = _words(speculator.words_of(first.id, 30))
    finally:
        speculator.close()
        runner.join(30)
    assert out.counters.get("speculations_dropped") == 1, out.counters
    alone = _words(models.transcriber.transcribe(first.as_utterance().audio).text)
    assert words and words == alone and "dog" not in words, (words, alone)


def test_live_words_during_a_pause_come_from_its_guess(tmp_path, models):
    """Partials every 250 ms through speech with short pauses: one that comes while a
    pause is heard takes that guess's words (counted), and the words stay right."""
    path, _ = spoken(
        tmp_path, 500, "I walked down to the river", 250, "and then I saw", 250,
        "a big brown dog", 250, "near the old bridge.", 1500,
    )  # fmt: skip
    cfg = config("segmenter.partial_hop_s=0.25", "segmenter.adaptive_hangover=false")
    events, counters = play(path, cfg, models)
    assert counters.get("live_words_from_guesses", 0) >= 1, counters
    words = _words(events[0].text) if len(events) == 1 else []
    assert "river" in words and "dog" in words, [e.text for e in events]


def test_a_file_read_as_fast_as_it_decodes_is_not_speculated(tmp_path):
    from tests.conftest import run_cli

    path, _ = spoken(tmp_path, 500, SENTENCE, 1500)
    out = tmp_path / "events.jsonl"
    result = run_cli(
        "run", "--input", str(path), "--sink", f"jsonl:{out}",
        "-o", "text.enabled=false", "-o", "audio.enabled=false",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "speculations" not in out.read_text()


def test_a_pause_foresees_the_utterance_exactly(tmp_path):
    """The segmenter's Pause is the Utterance to come: same times, audio and id."""
    _, audio = spoken(tmp_path, 500, SENTENCE, 1500)
    items = _segmented(audio)
    pauses = [p for p in items if isinstance(p, Pause)]
    utterances = [u for u in items if isinstance(u, Utterance)]
    assert len(utterances) == 1 and pauses
    assert pauses[-1].matches(utterances[0])
    assert np.array_equal(pauses[-1].as_utterance().audio, utterances[0].audio)
    assert items.index(pauses[-1]) < items.index(utterances[0])


def test_a_pause_comes_soon_after_speech_stops_and_foresees_a_noisy_tail(tmp_path):
    """The Pause comes ``pause_ms`` (90) into the silence, long before the 300 ms tail is
    heard: the tail it has not heard is zeros, and it still foresees the utterance whose
    tail is the room's noise."""
    _, audio = spoken(tmp_path, 500, SENTENCE, 1500)
    noise = np.random.default_rng(7).normal(0, 30, len(audio))  # a quiet room, ~-60 dBFS
    audio = np.clip(audio + noise, -32768, 32767).astype(np.int16)
    segmenter = VadSegmenter()
    segmenter.pauses = True
    items, pauses = [], []
    for i in range(0, len(audio), 480):
        for item in segmenter.feed(Block(audio[i : i + 480], 0.0)):
            items.append(item)
            if isinstance(item, Pause):
                pauses.append((item, (segmenter._pos - item.end) / SAMPLE_RATE))
    (utterance,) = [u for u in items if isinstance(u, Utterance)]
    pause, after = pauses[-1]
    assert after <= 0.09 + 0.03, after  # pause_ms and one frame, not the 300 ms tail
    assert pause.heard is not None and pause.heard < len(pause.audio)
    assert not pause.audio[pause.heard :].any()  # not heard yet: silence
    assert utterance.audio[pause.heard :].any()  # the utterance's own tail: the noise
    assert pause.matches(utterance)
    moved = Utterance(utterance.id, utterance.start, utterance.end, utterance.audio.copy(), 0.0)
    moved.audio[pause.heard // 2] += 1000  # different speech: not foreseen
    assert not pause.matches(moved)


def test_a_segmenter_without_pauses_yields_none_by_default(tmp_path):
    _, audio = spoken(tmp_path, 500, SENTENCE, 1500)
    items = list(VadSegmenter().feed(Block(audio, 0.0)))
    assert not any(isinstance(i, Pause) for i in items)
    assert Speculator  # the module imports on its own


def test_a_bad_speculate_value_is_one_line():
    from tests.conftest import run_cli

    result = run_cli("run", "--input", "x.wav", "-o", "pipeline.speculate=maybe")
    assert result.returncode == 2
    assert "pipeline.speculate must be true or false" in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
