"""The synchronous analysis core (streamemo.analysis) with fake stages: batching through
the ``*_many`` methods, the one-by-one retry, fusion, the no-speech rule. Milliseconds."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from streamemo.analysis import VOICE_CONFIDENCE_MIN, Analysis
from streamemo.frames import Partial
from streamemo.loading import Analysers
from streamemo.scores import confidence
from tests.engine_fakes import (
    FLAT,
    Both,
    Glad,
    Voice,
    Words,
    cut_pair,
    emission,
    observed,
    utterance,
)


def core(transcriber=None, text=None, audio=None, fuser=None, beside=None, out=None):
    out = out or emission()
    return Analysis(Analysers(transcriber, text, audio, fuser), out, beside), out


def test_a_batch_goes_through_the_many_methods_at_once():
    words = Words()
    analysis, out = core(words, Glad(), Voice(), Both())
    events = analysis.analyse([utterance(i) for i in (1, 2, 3)])
    assert words.calls == [("transcribe_many", 3)]
    assert [e.id for e in events] == [1, 2, 3]
    assert all(e.text == "hello there" and e.language == "en" for e in events)
    assert events[0].timing["batch"] == 3
    assert out.counters["utterances"] == 3 and out.counters["errors"] == 0


def test_one_utterance_is_not_a_batch():
    words = Words()
    analysis, _ = core(words)
    [event] = analysis.analyse([utterance(1)])
    assert words.calls == [("transcribe", 1)] and "batch" not in event.timing


@pytest.mark.parametrize("fault", ["many_fails", "many_short"])
def test_a_many_that_fails_or_miscounts_is_retried_one_by_one(fault):
    words = Words(**{fault: True})
    analysis, out = core(words)
    events = analysis.analyse([utterance(i) for i in (1, 2, 3)])
    assert words.calls == [("transcribe_many", 3)] + [("transcribe", 1)] * 3
    assert [e.text for e in events] == ["hello there"] * 3
    assert out.counters["errors"] == 0  # the batch's failure is no utterance's error


def test_one_bad_utterance_costs_only_its_own_result_and_one_error():
    words = Words(many_fails=True)
    words.fail_on = {2}
    out, seen = observed()
    analysis, _ = core(words, Glad(), Voice(), Both(), out=out)
    events = analysis.analyse([utterance(1, fill=1), utterance(2, fill=2), utterance(3, fill=3)])
    assert [e.text for e in events] == ["hello there", None, "hello there"]
    assert out.counters["errors"] == 1
    [error] = seen.events  # the only event the core emits itself
    assert error.state == "error" and "transcriber (utterance 2)" in error.message
    # the utterance without a transcript still gets its voice and an event
    assert events[1].audio_emotion is not None and events[1].text_emotion is None


def test_the_fuser_gets_the_text_and_the_voice_result():
    fuser, voice = Both(), Voice()
    analysis, _ = core(Words(), Glad(), voice, fuser)
    [event] = analysis.analyse([utterance(1)])
    [(text, audio)] = fuser.given
    assert text is event.text_emotion and audio is event.audio_emotion
    assert text.model == "glad" and audio.model == "voice" and event.emotion.method == "both"


def test_a_raising_fuser_gives_an_event_without_emotion_and_one_error():
    analysis, out = core(Words(), Glad(), Voice(), Both(fail=True))
    events = analysis.analyse([utterance(1), utterance(2)])
    assert [e.emotion for e in events] == [None, None]
    assert all(e.text_emotion and e.audio_emotion for e in events)
    assert out.counters["errors"] == 2 and out.counters["utterances"] == 2


def test_the_voice_runs_beside_the_transcriber_on_the_executor():
    voice = Voice()
    with ThreadPoolExecutor(1, thread_name_prefix="voice") as pool:
        analysis, _ = core(Words(), None, voice, None, beside=pool)
        [event] = analysis.analyse([utterance(1)])
    assert voice.thread.startswith("voice") and event.audio_emotion.model == "voice"
    assert "audio_ms" in event.timing and "transcribe_ms" in event.timing


def test_no_words_and_a_flat_voice_is_skipped_and_counted():
    assert confidence(FLAT) < VOICE_CONFIDENCE_MIN
    glad = Glad()
    analysis, out = core(Words(text=" . "), glad, Voice(FLAT), Both())  # punctuation: no words
    assert analysis.analyse([utterance(1, samples=8000), utterance(2, samples=8000)]) == [
        None,
        None,
    ]
    assert out.counters["skipped_no_speech"] == 2
    assert out.counters["skipped_no_speech_s"] == 1.0
    assert out.counters["utterances"] == 0 and glad.seen == []  # no text to read


def test_no_words_but_a_confident_voice_is_an_event():
    analysis, out = core(Words(text=""), Glad(), Voice(), Both())
    [event] = analysis.analyse([utterance(1)])
    assert event.text == "" and event.audio_emotion is not None and event.text_emotion is None
    assert out.counters["skipped_no_speech"] == 0


@pytest.mark.parametrize("transcriber", ["off", "failed"])
def test_without_a_transcript_nothing_is_skipped(transcriber):
    """No transcriber, or one that failed on the utterance: it never said "no words"."""
    words = None
    if transcriber == "failed":
        words = Words()
        words.fail_on = {100}
    analysis, out = core(words, None, Voice(FLAT), None)
    [event] = analysis.analyse([utterance(1)])
    assert event.text is None and out.counters["skipped_no_speech"] == 0


def test_parts_of_a_cut_monologue_are_heard_with_their_spans():
    words = Words()
    analysis, _ = core(words)
    analysis.analyse(list(cut_pair()))
    assert words.calls == [("transcribe_span_many", 2)]


def test_a_partial_is_read_by_analyse_latest_and_a_failure_is_one_error():
    voice = Voice()
    analysis, out = core(None, None, voice, None)
    part = Partial(4, 0, 1600, np.zeros(1600, np.int16))
    event = analysis.partial(part)
    assert event.type == "partial" and event.id == 4 and event.audio_emotion.model == "voice-latest"
    voice.fail = True
    assert analysis.partial(part) is None
    assert out.counters["partials"] == 1 and out.counters["errors"] == 1
